// Reads a response body as UTF-8 text up to a byte cap, counted on the stream (Content-Length is a claim, not a fact).
// I/O (reads the stream); no clock. The broker's own capped reader, in the shape the client wants.
import { readTextCapped as readCapped } from "../http/read-capped.ts";

/** The body as text, or undefined when it is larger than the cap, unreadable or not UTF-8. */
export async function readTextCapped(response: Response, maxBytes: number): Promise<string | undefined> {
  const read = await readCapped(response, maxBytes);
  return read.ok ? read.text : undefined;
}
