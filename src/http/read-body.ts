// Reads a request body up to a byte cap, counted on the stream: Content-Length is a claim, not a fact.
// I/O (reads the stream); no clock.
import { BrokerError } from "../errors.ts";
import { readBytesCapped } from "./read-capped.ts";

export async function readBodyCapped(request: Request, maxBytes: number): Promise<Uint8Array> {
  const read = await readBytesCapped(request, maxBytes);
  if (read.ok) return read.bytes;
  // A client that drops the connection mid-body sent a malformed request, not a large one.
  throw read.failure === "too_large"
    ? new BrokerError("payload_too_large", "body_too_large")
    : new BrokerError("invalid_request", "body_unreadable");
}
