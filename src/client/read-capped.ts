// Reads a response body as UTF-8 text up to a byte cap, counted on the stream (Content-Length is a claim, not a fact).
// I/O (reads the stream); no clock. Returns undefined when the body is larger than the cap or not UTF-8.

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export async function readTextCapped(response: Response, maxBytes: number): Promise<string | undefined> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
