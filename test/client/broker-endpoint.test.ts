// credentialsEndpoint (src/client/broker-endpoint.ts): the broker URL a client accepts and the route it appends.
import { describe, expect, it } from "vitest";
import { ClientError } from "../../src/client/errors.ts";
import { credentialsEndpoint } from "../../src/client/broker-endpoint.ts";

describe("credentialsEndpoint", () => {
  const good: Array<[string, string]> = [
    ["https://broker.example", "https://broker.example/v1/credentials"],
    ["https://broker.example/", "https://broker.example/v1/credentials"],
    ["https://example.com/broker/", "https://example.com/broker/v1/credentials"],
    ["https://broker.example/v1/credentials", "https://broker.example/v1/credentials"],
    ["http://127.0.0.1:8787", "http://127.0.0.1:8787/v1/credentials"],
    ["http://localhost:8787", "http://localhost:8787/v1/credentials"],
  ];
  for (const [input, expected] of good)
    it(`${input} -> ${expected}`, () => expect(credentialsEndpoint(input).href).toBe(expected));

  const bad = [
    "broker.example",
    "http://broker.example",
    "https://user:pw@broker.example",
    "https://broker.example/?x=1",
    "https://broker.example/#f",
    "ftp://broker.example",
    // Written into the credential_process line: shell substitutions and quotes must never get there.
    "https://b.example/$(touch$IFS/tmp/pwn)",
    "https://b.example/a'b",
  ];
  for (const input of bad) {
    it(`refuses ${input} as usage`, () => {
      expect(() => credentialsEndpoint(input)).toThrow(ClientError);
      try {
        credentialsEndpoint(input);
      } catch (error) {
        expect((error as ClientError).code).toBe("usage");
        expect((error as ClientError).exitCode).toBe(2);
      }
    });
  }
});
