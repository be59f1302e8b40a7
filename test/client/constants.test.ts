import { describe, expect, it } from "vitest";
import * as client from "../../src/client/constants.ts";
import { STS_DEADLINE_MS, DEFAULT_SESSION_DURATION_SECONDS } from "../../src/aws/constants.ts";
import { TOKEN_HASH_PREFIX_HEX_CHARS } from "../../src/audit/constants.ts";
import { GITHUB_API_VERSION } from "../../src/github/constants.ts";
import { STS_MAX_DURATION_SECONDS, STS_MIN_DURATION_SECONDS } from "../../src/http/constants.ts";
import { JWKS_FETCH_TIMEOUT_MS, SHARED_DEFAULT_AUDIENCE } from "../../src/oidc/constants.ts";
import { tokenHashPrefix as brokerHash } from "../../src/audit/event.ts";
import { tokenHashPrefix as clientHash } from "../../src/client/exchange-messages.ts";

describe("client constants shared with the broker", () => {
  it("hold the broker's values (the client keeps copies so its bundle does not carry the Worker's constants)", () => {
    expect(client.MIN_DURATION_SECONDS).toBe(STS_MIN_DURATION_SECONDS);
    expect(client.MAX_DURATION_SECONDS).toBe(STS_MAX_DURATION_SECONDS);
    expect(client.BROKER_DEFAULT_DURATION_SECONDS).toBe(DEFAULT_SESSION_DURATION_SECONDS);
    expect(client.TOKEN_HASH_PREFIX_HEX_CHARS).toBe(TOKEN_HASH_PREFIX_HEX_CHARS);
    expect(client.DEFAULT_AUDIENCE).toBe(SHARED_DEFAULT_AUDIENCE);
    expect(client.GITHUB_API_VERSION).toBe(GITHUB_API_VERSION);
  });

  it("debug lines name a token by the same hash prefix the broker's audit event carries", async () => {
    const token = "eyJhbGciOiJSUzI1NiJ9.eyJqdGkiOiJ4In0.c2ln";
    expect(await clientHash(token)).toBe(await brokerHash(token));
  });

  it("a mint lock outlives one exchange's deadline before it counts as stale", () => {
    expect(client.TOKEN_CACHE_LOCK_STALE_MS).toBeGreaterThan(client.CLIENT_DEADLINE_MS);
    expect(client.GITHUB_TOKEN_CACHE_MARGIN_MS).toBeLessThan(client.GITHUB_TOKEN_LIFETIME_MS / 2);
  });

  it("the deadline leaves room for several attempts of the broker's worst case", () => {
    expect(client.CLIENT_ATTEMPT_TIMEOUT_MS).toBeGreaterThan(STS_DEADLINE_MS + JWKS_FETCH_TIMEOUT_MS);
    expect(client.CLIENT_DEADLINE_MS).toBeGreaterThanOrEqual(3 * client.CLIENT_ATTEMPT_TIMEOUT_MS);
  });
});
