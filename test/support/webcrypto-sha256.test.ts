// Tests of the WebCrypto-backed Checksum: byte-for-byte the same SHA-256 and HMAC-SHA-256 as @aws-crypto/sha256-js
// on the inputs SigV4 feeds it, the same signatures from AWS's signer, and the STS emulator still verifying with it.
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { ChecksumConstructor, SourceData } from "@smithy/types";
import { AwsClient } from "aws4fetch";
import { describe, expect, it } from "vitest";
import { createStsEmulator } from "../../sandbox/fakes/sts-emulator.ts";
import { WebCryptoSha256 } from "./webcrypto-sha256.ts";

const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

async function digestWith(
  impl: ChecksumConstructor,
  secret: SourceData | undefined,
  chunks: SourceData[],
): Promise<string> {
  const hash = secret === undefined ? new impl() : new impl(secret);
  for (const chunk of chunks)
    hash.update(
      typeof chunk === "string"
        ? new TextEncoder().encode(chunk)
        : chunk instanceof ArrayBuffer
          ? new Uint8Array(chunk)
          : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
  return hex(await hash.digest());
}

/**
 * Inputs as SigV4 and its key derivation produce them, plus the edges: empty, block-sized, multi-chunk, offset views.
 */
const INPUTS: Array<{ name: string; chunks: SourceData[] }> = [
  { name: "empty", chunks: [] },
  { name: "empty chunk", chunks: [new Uint8Array(0)] },
  {
    name: "a string-to-sign",
    chunks: [`AWS4-HMAC-SHA256\n20261125T205200Z\n20261125/us-east-1/sts/aws4_request\n${"ab".repeat(32)}`],
  },
  {
    name: "55, 56, 63, 64, 65 bytes (padding edges)",
    chunks: [
      new Uint8Array(55).fill(1),
      new Uint8Array(56).fill(2),
      new Uint8Array(63).fill(3),
      new Uint8Array(64).fill(4),
      new Uint8Array(65).fill(5),
    ],
  },
  {
    name: "a 20 KiB body in uneven chunks",
    chunks: Array.from({ length: 7 }, (_, i) => new Uint8Array(3_000 + i * 17).map((_, j) => (j * 31 + i) & 255)),
  },
  {
    name: "a view into a larger buffer",
    chunks: [new Uint8Array(new Uint8Array(100).map((_, j) => j).buffer, 10, 50)],
  },
  { name: "an ArrayBuffer", chunks: [new Uint8Array([0, 255, 128, 7]).buffer] },
  { name: "non-ASCII text", chunks: ["été ☃ 𝄞"] },
];

const SECRETS: Array<{ name: string; secret: SourceData }> = [
  { name: "a SigV4 kSecret", secret: "AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
  { name: "a 32-byte derived key", secret: new Uint8Array(32).map((_, j) => j * 7) },
  { name: "an empty key", secret: new Uint8Array(0) },
  { name: "a 64-byte key (one block)", secret: new Uint8Array(64).fill(9) },
  { name: "a 100-byte key (hashed first)", secret: new Uint8Array(100).fill(0xa5) },
  { name: "an offset view key", secret: new Uint8Array(new Uint8Array(80).map((_, j) => 255 - j).buffer, 3, 40) },
];

describe("WebCryptoSha256 against @aws-crypto/sha256-js", () => {
  for (const input of INPUTS) {
    it(`SHA-256 of ${input.name} is identical`, async () => {
      expect(await digestWith(WebCryptoSha256, undefined, input.chunks)).toBe(
        await digestWith(Sha256, undefined, input.chunks),
      );
    });
  }

  for (const { name, secret } of SECRETS) {
    it(`HMAC-SHA-256 with ${name} is identical on every input`, async () => {
      for (const input of INPUTS) {
        expect(await digestWith(WebCryptoSha256, secret, input.chunks), input.name).toBe(
          await digestWith(Sha256, secret, input.chunks),
        );
      }
    });
  }

  it("matches the FIPS 180-2 and RFC 4231 vectors", async () => {
    expect(await digestWith(WebCryptoSha256, undefined, ["abc"])).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    // RFC 4231 test case 2.
    expect(await digestWith(WebCryptoSha256, "Jefe", ["what do ya want for nothing?"])).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("reset forgets the data and keeps the HMAC key; a reused buffer changes nothing already added", async () => {
    const hash = new WebCryptoSha256("key");
    hash.update(new TextEncoder().encode("discarded"));
    hash.reset();
    const buffer = new TextEncoder().encode("message");
    hash.update(buffer);
    buffer.fill(0);
    expect(hex(await hash.digest())).toBe(await digestWith(Sha256, "key", ["message"]));
  });
});

describe("AWS's signer with either hash", () => {
  const credentials = {
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    sessionToken: "session/token+value",
  };

  it("produces the same Authorization header for the same request", async () => {
    const request = {
      method: "POST",
      protocol: "https:",
      hostname: "sts.eu-west-1.amazonaws.com",
      path: "/",
      query: { a: "1", b: ["x", "y"] },
      headers: {
        host: "sts.eu-west-1.amazonaws.com",
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      },
      body: "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeploy&RoleSessionName=s",
    };
    const sign = (sha256: ChecksumConstructor) =>
      new SignatureV4({ service: "sts", region: "eu-west-1", credentials, sha256 }).sign(structuredClone(request), {
        signingDate: new Date(Date.UTC(2026, 10, 25, 20, 52, 0)),
      });
    const [js, web] = await Promise.all([sign(Sha256), sign(WebCryptoSha256)]);
    expect(web.headers.authorization).toMatch(/Signature=[0-9a-f]{64}$/);
    expect(web.headers).toEqual(js.headers);
  });
});

describe("the STS emulator verifying with WebCryptoSha256", () => {
  const principal = {
    accessKeyId: "AKIAEMULATORWEBCRYPT",
    secretAccessKey: "emulator/webcrypto+secret/00000000000000",
  };
  const T0 = Date.UTC(2026, 10, 25, 20, 52, 0);
  const amzDate = (ms: number) =>
    new Date(ms)
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z")
      .replace(/[-:]/g, "");
  const sts = () => createStsEmulator({ now: () => T0, principals: [principal], sha256: WebCryptoSha256 });
  const params = {
    Action: "AssumeRole",
    Version: "2011-06-15",
    RoleArn: "arn:aws:iam::123456789012:role/ci/deploy",
    RoleSessionName: "ci-session",
  };

  async function signed(secretAccessKey = principal.secretAccessKey): Promise<Request> {
    const client = new AwsClient({
      accessKeyId: principal.accessKeyId,
      secretAccessKey,
      service: "sts",
      region: "us-east-1",
    });
    return client.sign("https://sts.us-east-1.amazonaws.com/", {
      method: "POST",
      body: new URLSearchParams(params).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      aws: { datetime: amzDate(T0) },
    });
  }

  it("accepts an aws4fetch-signed AssumeRole", async () => {
    const response = await sts().handler(await signed());
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("<AccessKeyId>ASIA");
  });

  it("refuses a body changed after signing and a wrong secret with SignatureDoesNotMatch", async () => {
    const request = await signed();
    const tampered = new Request(request.url, {
      method: "POST",
      headers: request.headers,
      body: new URLSearchParams({ ...params, RoleSessionName: "other" }).toString(),
    });
    for (const candidate of [tampered, await signed("emulator/webcrypto+secret/00000000000001")]) {
      const response = await sts().handler(candidate);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
    }
  });
});
