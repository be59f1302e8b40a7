import { describe, expect, it } from "vitest";
import { readBytesCapped, readTextCapped } from "../../src/http/read-capped.ts";

function streamOf(chunks: Uint8Array[], failAfter?: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (failAfter !== undefined && sent === failAfter) {
        controller.error(new TypeError("connection reset"));
        return;
      }
      const chunk = chunks[sent++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
  });
}

const bytes = (n: number, fill = 0x61) => new Uint8Array(n).fill(fill);

describe("readBytesCapped", () => {
  it("reads a body of exactly the cap", async () => {
    const read = await readBytesCapped(new Response(streamOf([bytes(10), bytes(6)])), 16);
    expect(read).toEqual({ ok: true, bytes: bytes(16) });
  });

  it("refuses a body one byte over the cap while streaming, whatever Content-Length says", async () => {
    const lying = new Response(streamOf([bytes(10), bytes(7)]), { headers: { "content-length": "3" } });
    expect(await readBytesCapped(lying, 16)).toEqual({ ok: false, failure: "too_large" });
    expect(await readBytesCapped(new Response(streamOf([bytes(17)])), 16)).toEqual({ ok: false, failure: "too_large" });
  });

  it("refuses a declared oversize without reading it", async () => {
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull: (c) => {
        pulls++;
        c.enqueue(bytes(1));
      },
    });
    const request = new Request("https://x.example/", {
      method: "POST",
      body,
      headers: { "content-length": "1000" },
      duplex: "half",
    } as RequestInit);
    expect(await readBytesCapped(request, 16)).toEqual({ ok: false, failure: "too_large" });
    expect(pulls).toBeLessThanOrEqual(1);
  });

  it("reports a stream that fails mid-way", async () => {
    expect(await readBytesCapped(new Response(streamOf([bytes(4), bytes(4)], 1)), 16)).toEqual({
      ok: false,
      failure: "read_failed",
    });
  });

  it("treats no body as empty", async () => {
    expect(await readBytesCapped(new Response(null), 16)).toEqual({ ok: true, bytes: new Uint8Array(0) });
  });
});

describe("readTextCapped", () => {
  it("decodes UTF-8 split across chunks", async () => {
    const euro = new TextEncoder().encode("€"); // 3 bytes
    const read = await readTextCapped(new Response(streamOf([euro.slice(0, 1), euro.slice(1)])), 16);
    expect(read).toEqual({ ok: true, text: "€" });
  });

  it("refuses invalid UTF-8", async () => {
    expect(await readTextCapped(new Response(streamOf([new Uint8Array([0x7b, 0xff, 0x7d])])), 16)).toEqual({
      ok: false,
      failure: "not_utf8",
    });
  });
});
