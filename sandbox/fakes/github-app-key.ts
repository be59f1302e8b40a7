// A GitHub App key pair generated at test time (never committed), as PEM in both forms GitHub tooling uses:
// PKCS#1 ("BEGIN RSA PRIVATE KEY", what GitHub's "Generate a private key" downloads) and PKCS#8.
// Platform-neutral: WebCrypto only (workerd and Node 24).

export interface AppKeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  pkcs8Pem: string;
  pkcs1Pem: string;
}

function pem(label: string, der: Uint8Array): string {
  const base64 = btoa(String.fromCharCode(...der));
  return `-----BEGIN ${label}-----\n${base64.replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

/** Reads one DER header at `offset`: [content offset, content length]. */
function derHeader(der: Uint8Array, offset: number): [number, number] {
  const first = der[offset + 1] as number;
  if (first < 0x80) return [offset + 2, first];
  const count = first & 0x7f;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (der[offset + 2 + i] as number);
  return [offset + 2 + count, length];
}

/** PKCS#8 PrivateKeyInfo -> the PKCS#1 RSAPrivateKey inside (the inverse of src/crypto/pem.ts wrapPkcs1). */
export function unwrapPkcs8(pkcs8: Uint8Array): Uint8Array {
  const [bodyStart] = derHeader(pkcs8, 0);
  let offset = bodyStart;
  for (let field = 0; field < 2; field++) {
    const [start, length] = derHeader(pkcs8, offset);
    offset = start + length; // skip version, then AlgorithmIdentifier
  }
  const [start, length] = derHeader(pkcs8, offset);
  return pkcs8.slice(start, start + length);
}

export async function generateAppKey(): Promise<AppKeyPair> {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer);
  return {
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
    pkcs8Pem: pem("PRIVATE KEY", pkcs8),
    pkcs1Pem: pem("RSA PRIVATE KEY", unwrapPkcs8(pkcs8)),
  };
}
