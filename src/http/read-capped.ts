// Reads a body (request or response) up to a byte cap, counted on the stream: Content-Length is a claim, not a fact.
// I/O (reads the stream); no clock. The one reader every size-capped read in the broker and the client goes through.

export type CappedBytes = { ok: true; bytes: Uint8Array } | { ok: false; failure: "too_large" | "read_failed" };
export type CappedText = { ok: true; text: string } | { ok: false; failure: "too_large" | "read_failed" | "not_utf8" };

/**
 * The body's bytes, or why not: more than `maxBytes` (declared or streamed; the stream is cancelled) or a read error.
 */
export async function readBytesCapped(message: Request | Response, maxBytes: number): Promise<CappedBytes> {
  const body = message.body;
  const declared = message.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    await body?.cancel().catch(() => undefined);
    return { ok: false, failure: "too_large" };
  }
  if (body === null) return { ok: true, bytes: new Uint8Array(0) };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return { ok: false, failure: "too_large" };
      }
      chunks.push(value);
    }
  } catch {
    return { ok: false, failure: "read_failed" };
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}

/** As readBytesCapped, decoded as strict UTF-8 (RFC 8259 §8.1 for JSON; STS and the SQL API answer UTF-8). */
export async function readTextCapped(message: Request | Response, maxBytes: number): Promise<CappedText> {
  const read = await readBytesCapped(message, maxBytes);
  if (!read.ok) return read;
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(read.bytes) };
  } catch {
    return { ok: false, failure: "not_utf8" };
  }
}
