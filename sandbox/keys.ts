// Throwaway AWS-shaped keys for the sandbox and tests: generated per run, never real, never committed.
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function randomString(alphabet: string, length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return [...bytes].map((byte) => alphabet[byte % alphabet.length]).join("");
}

export function generateBrokerKeys(): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: `AKIA${randomString(BASE32, 16)}`, secretAccessKey: randomString(SECRET_CHARS, 40) };
}
