// What the log holds of a rejected or issued exchange: the token's hash prefix, never the token or the broker's secret.
import { describe, expect, it } from "vitest";
import { TOKEN_HASH_PREFIX_HEX_CHARS } from "../../src/audit/constants.ts";
import { MAX_REQUEST_BODY_BYTES } from "../../src/http/constants.ts";
import { createHarness, type Harness } from "../support/broker-harness.ts";
import { attackerOrigin, EVIL_ORIGIN, post, sha256Prefix, times } from "./helpers.ts";

// --- Logging hygiene ----------------------------------------------------------------------------

describe("logging hygiene: the log holds the token's hash prefix, never the token or the broker's secret", () => {
  const scenarios: Array<[string, (h: Harness) => Promise<{ token: string; response: Response }>]> = [
    [
      "expired token (401)",
      async (h) => {
        const token = await h.mint(times(h, { iat: -300, nbf: -600, exp: -11 }));
        return { token, response: await h.request(token) };
      },
    ],
    [
      "jku header (401)",
      async (h) => {
        await attackerOrigin(h);
        const token = await h.mint({}, { header: { jku: `${EVIL_ORIGIN}/jwks` } });
        return { token, response: await h.request(token) };
      },
    ],
    [
      "audience mismatch (401)",
      async (h) => {
        const token = await h.mint({ aud: "https://github.com/acme" });
        return { token, response: await h.request(token) };
      },
    ],
    [
      "policy denial (403)",
      async (h) => {
        const token = await h.mint({ repository: "acme/app-evil" });
        return { token, response: await h.request(token) };
      },
    ],
    [
      "token in the JSON body, duration_seconds 3601 (403)",
      async (h) => {
        const token = await h.mint();
        return {
          token,
          response: await h.fetch(
            post({
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ token, role: "deploy", duration_seconds: 3601 }),
            }),
          ),
        };
      },
    ],
    [
      "token in an oversized body (413)",
      async (h) => {
        const token = await h.mint();
        return {
          token,
          response: await h.fetch(
            post({
              headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
              body: "x".repeat(MAX_REQUEST_BODY_BYTES + 1),
            }),
          ),
        };
      },
    ],
    [
      "issued credentials (200)",
      async (h) => {
        const token = await h.mint();
        return { token, response: await h.request(token) };
      },
    ],
  ];

  it.each(scenarios)("%s", async (_name, run) => {
    const h = await createHarness();
    const { token, response } = await run(h);
    const logText = JSON.stringify(h.logs);
    expect(h.logs.length).toBeGreaterThan(0);
    expect(logText).not.toContain(token);
    for (const segment of token.split(".")) if (segment.length >= 16) expect(logText).not.toContain(segment);
    const secret = String(h.env.AWS_SECRET_ACCESS_KEY);
    expect(secret.length).toBeGreaterThanOrEqual(16);
    expect(logText).not.toContain(secret);
    const event = h.events()[0] as Record<string, unknown>;
    if (response.status === 413) {
      expect(event.token_sha256).toBeUndefined();
    } else {
      expect(event.token_sha256).toMatch(new RegExp(`^[0-9a-f]{${TOKEN_HASH_PREFIX_HEX_CHARS}}$`));
      expect(event.token_sha256).toBe(await sha256Prefix(token));
    }
    if (response.status === 200) {
      // What we hand out is never logged either.
      const issued = (await response.json()) as Record<string, string>;
      for (const field of ["SecretAccessKey", "SessionToken"]) expect(logText).not.toContain(String(issued[field]));
    }
  });
});
