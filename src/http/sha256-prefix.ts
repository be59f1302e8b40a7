// The hex SHA-256 prefix that names a token in logs and audit events, shared by the broker and its client.
// WebCrypto only; no clock. Enough to correlate requests, useless to replay.

export async function sha256HexPrefix(text: string, hexChars: number): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)]
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, hexChars);
}
