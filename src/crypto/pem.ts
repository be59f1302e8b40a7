// Private keys from PEM, as PKCS#8 DER for WebCrypto: the GitHub Apps' keys (src/github/) and the broker's own
// signing keys (src/idp/). Pure; no I/O (runs at config time, so a bad key fails at start).
//
// GitHub hands out PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"); WebCrypto and jose import PKCS#8 only. A PKCS#1
// RSAPrivateKey becomes a PKCS#8 PrivateKeyInfo by wrapping it (RFC 5208 §5, RFC 8017 A.1.2):
//   PrivateKeyInfo ::= SEQUENCE { version INTEGER 0, AlgorithmIdentifier { rsaEncryption, NULL }, OCTET STRING <pkcs1>
// }

/** DER of `INTEGER 0` then `AlgorithmIdentifier { OID 1.2.840.113549.1.1.1 (rsaEncryption), NULL }`. */
const VERSION_AND_RSA_ALGORITHM = [
  0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/** DER definite length: short form below 128, else 0x80|n followed by n big-endian bytes. */
export function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return [0x80 | bytes.length, ...bytes];
}

function derTlv(tag: number, content: Uint8Array | number[]): Uint8Array {
  const head = [tag, ...derLength(content.length)];
  const out = new Uint8Array(head.length + content.length);
  out.set(head, 0);
  out.set(content, head.length);
  return out;
}

/** PKCS#1 RSAPrivateKey DER -> PKCS#8 PrivateKeyInfo DER. */
export function wrapPkcs1(pkcs1: Uint8Array): Uint8Array {
  const octets = derTlv(0x04, pkcs1);
  const body = new Uint8Array(VERSION_AND_RSA_ALGORITHM.length + octets.length);
  body.set(VERSION_AND_RSA_ALGORITHM, 0);
  body.set(octets, VERSION_AND_RSA_ALGORITHM.length);
  return derTlv(0x30, body);
}

const PEM_PATTERN = /^-----BEGIN (RSA PRIVATE KEY|PRIVATE KEY)-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END \1-----\s*$/;

/**
 * A private key as PKCS#8 DER, from a PKCS#1 or PKCS#8 PEM (surrounding whitespace and `\n` escapes, as `.dev.vars`
 * and some secret stores keep them, are tolerated). Throws a bare Error (no key material) when it is not one.
 */
export function pemToPkcs8(pem: string): Uint8Array {
  const match = PEM_PATTERN.exec(pem.replaceAll("\\n", "\n").trim());
  if (match === null) throw new Error("not a PEM private key (BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY)");
  let der: Uint8Array;
  try {
    der = Uint8Array.from(atob((match[2] as string).replace(/\s+/g, "")), (char) => char.charCodeAt(0));
  } catch {
    throw new Error("PEM body is not base64");
  }
  // Both are one DER SEQUENCE; anything else is not a key.
  if (der.length < 64 || der[0] !== 0x30) throw new Error("PEM body is not a DER sequence");
  return match[1] === "RSA PRIVATE KEY" ? wrapPkcs1(der) : der;
}
