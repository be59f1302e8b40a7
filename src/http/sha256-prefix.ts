// The hex SHA-256 prefix that names a token in logs and audit events, shared by the broker and its client.
// WebCrypto only; no clock. Enough to correlate requests, useless to replay.

/** Per isolate: stateless, so one serves every request. */
const utf8 = new TextEncoder();

export async function sha256HexPrefix(text: string, hexChars: number): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(text)));
  // Only the bytes the prefix needs are formatted (8 of 32 for the 16-hex-char token prefix).
  let hex = "";
  for (let i = 0; i < Math.ceil(hexChars / 2) && i < digest.length; i++)
    hex += (digest[i] as number).toString(16).padStart(2, "0");
  return hex.slice(0, hexChars);
}
