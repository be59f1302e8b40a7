// SHA-256 and HMAC-SHA-256 over WebCrypto (`crypto.subtle`) in the shape of smithy's `Checksum`, so AWS's own SigV4
// signer (@smithy/signature-v4) can run on native crypto instead of @aws-crypto/sha256-js (pure JS, ~10x slower).
// Platform-neutral (workerd and Node 24): WebCrypto only. The signer's logic is unchanged: only its hash primitive.
import type { Checksum, SourceData } from "@smithy/types";

const utf8 = new TextEncoder();

/** Bytes of a smithy `SourceData`: strings as UTF-8, as @aws-crypto/sha256-js reads them. */
function bytesOf(data: SourceData): Uint8Array {
  if (typeof data === "string") return utf8.encode(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/**
 * HMAC's block size for SHA-256 (RFC 2104 §2: B = 64 bytes). A key shorter than B is padded with zeros to B bytes,
 * so the empty key, which WebCrypto refuses to import, is the same key as B zero bytes.
 */
const SHA256_BLOCK_BYTES = 64;

/**
 * `new WebCryptoSha256()` hashes (SHA-256); `new WebCryptoSha256(secret)` authenticates (HMAC-SHA-256 keyed by
 * `secret`, RFC 2104). Data is buffered and hashed in one WebCrypto call at `digest()`: SigV4 hashes small inputs.
 * The secret is imported as a non-extractable CryptoKey in the constructor and not kept as bytes (as smithy's
 * `ChecksumConstructor` contract asks).
 */
export class WebCryptoSha256 implements Checksum {
  readonly digestLength = 32;
  private readonly key: Promise<CryptoKey> | undefined;
  private chunks: Uint8Array[] = [];

  constructor(secret?: SourceData) {
    if (secret === undefined) return;
    const raw = bytesOf(secret);
    // A copy: importKey must not see a caller's buffer change under it.
    const keyBytes = raw.byteLength === 0 ? new Uint8Array(SHA256_BLOCK_BYTES) : raw.slice();
    this.key = crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    // Surfaced by digest(); never an unhandled rejection meanwhile.
    this.key.catch(() => undefined);
  }

  update(data: SourceData): void {
    // Copied: the caller may reuse its buffer before digest() runs.
    this.chunks.push(bytesOf(data).slice());
  }

  async digest(): Promise<Uint8Array> {
    const data = this.concatenated();
    const result =
      this.key === undefined
        ? await crypto.subtle.digest("SHA-256", data)
        : await crypto.subtle.sign("HMAC", await this.key, data);
    return new Uint8Array(result);
  }

  /** Forgets the data; an HMAC keeps its key. */
  reset(): void {
    this.chunks = [];
  }

  private concatenated(): Uint8Array<ArrayBuffer> {
    const total = this.chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
    const data = new Uint8Array(total);
    let offset = 0;
    for (const chunk of this.chunks) {
      data.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return data;
  }
}
