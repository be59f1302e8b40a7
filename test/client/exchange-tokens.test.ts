// fetchCredentials and its OIDC tokens (src/client/exchange-attempt.ts): a fresh token per attempt, a token refused as
// reused, the token source's failures, and no token or credential in the debug output.
import { describe, expect, it } from "vitest";
import { CLIENT_MIN_ATTEMPT_MS } from "../../src/client/constants.ts";
import { ClientError } from "../../src/client/errors.ts";
import { fetchCredentials } from "../../src/client/exchange.ts";
import { tokenHashPrefix } from "../../src/client/exchange-messages.ts";
import type { TokenSource } from "../../src/client/token-source.ts";
import {
  brokerError,
  connectionRefused,
  credentialsBody,
  fakeJwt,
  json,
  scripted,
  SECRET,
  SESSION_TOKEN,
  failure,
  options,
} from "./helpers.ts";

describe("fetchCredentials: token_reused", () => {
  it("mints a new token and retries once, at once", async () => {
    const broker = scripted([brokerError("token_reused", 401), json(credentialsBody())]);
    const result = await fetchCredentials(options, broker.deps);
    expect(result.attempts).toBe(2);
    expect(broker.minted).toEqual([fakeJwt(1), fakeJwt(2)]);
    expect(broker.sleeps).toEqual([]);
  });

  it("warns that someone else spent the token when a freshly minted one is refused as used", async () => {
    const broker = scripted([brokerError("token_reused", 401), json(credentialsBody())]);
    await fetchCredentials(options, broker.deps);
    expect(broker.warnings).toHaveLength(1);
    const warning = broker.warnings[0] as string;
    expect(warning).toContain(await tokenHashPrefix(fakeJwt(1)));
    expect(warning).toContain("0b7c6a52-9a6e-4c61-8f5e-2d1f3a4b5c6d");
    for (const token of broker.minted) expect(warning).not.toContain(token.split(".")[2]);
  });

  it("does not warn for a source that may hand out a token used before (a GitLab id_tokens variable)", async () => {
    let n = 0;
    const variable: TokenSource = {
      description: "environment variable BROKER_ID_TOKEN",
      mint: async () => fakeJwt(++n),
    };
    const broker = scripted([brokerError("token_reused", 401), json(credentialsBody())], { tokens: variable });
    await fetchCredentials(options, broker.deps);
    expect(broker.warnings).toEqual([]);
  });

  it("fails as token_reused when the retry is refused too", async () => {
    const broker = scripted([brokerError("token_reused", 401), brokerError("token_reused", 401)]);
    const error = await failure(fetchCredentials(options, broker.deps));
    expect(error.code).toBe("token_reused");
    expect(error.exitCode).toBe(11);
    expect(broker.requests).toHaveLength(2);
  });

  it("does not resend a token a fixed source hands out again (GitLab id_tokens)", async () => {
    const fixed: TokenSource = { description: "environment variable BROKER_ID_TOKEN", mint: async () => fakeJwt(7) };
    const broker = scripted([brokerError("token_reused", 401)], { tokens: fixed });
    const error = await failure(fetchCredentials(options, broker.deps));
    expect(error.code).toBe("token_reused");
    expect(error.message).toContain("environment variable BROKER_ID_TOKEN");
    expect(error.message).toContain("id_tokens");
    expect(broker.requests).toHaveLength(1);
  });
});

describe("fetchCredentials: the token source", () => {
  it("retries a transient token-source failure without calling the broker, then proceeds", async () => {
    let calls = 0;
    const flaky: TokenSource = {
      description: "the GitHub Actions token endpoint",
      mint: async () => {
        calls++;
        if (calls === 1)
          throw new ClientError("id_token_unavailable", "the GitHub Actions token endpoint answered HTTP 500.", {
            transient: true,
          });
        return fakeJwt(calls);
      },
    };
    const broker = scripted([json(credentialsBody())], { tokens: flaky });
    const result = await fetchCredentials(options, broker.deps);
    expect(result.attempts).toBe(2);
    expect(broker.requests).toHaveLength(1);
    expect(broker.sleeps).toHaveLength(1);
  });

  it("does not call the broker when minting left less than the minimum attempt time before the deadline", async () => {
    const broker = scripted([json(credentialsBody())]);
    const error = await failure(fetchCredentials({ ...options, deadlineMs: 500 }, broker.deps));
    expect(error.code).toBe("id_token_unavailable");
    expect(broker.requests).toHaveLength(0);
  });

  it("a deadline reached while minting after a failed attempt reports that failure (broker_unreachable), not the mint", async () => {
    // Each mint takes most of the time a retry leaves: the first attempt is refused, the backoff sleep fits, the mint
    // does not.
    const broker = scripted([connectionRefused(), json(credentialsBody())], { random: 0, mintLatencyMs: 1_000 });
    const error = await failure(
      fetchCredentials({ ...options, deadlineMs: CLIENT_MIN_ATTEMPT_MS * 2 + 500 }, broker.deps),
    );
    expect(error.code).toBe("broker_unreachable");
    expect(error.exitCode).toBe(8);
    expect(error.message).toMatch(/Gave up after 1 attempt in /);
    expect(broker.requests).toHaveLength(1);
    expect(broker.minted).toHaveLength(2);
  });

  it("stops at a permanent token-source failure (missing id-token permission) before any request", async () => {
    const missing: TokenSource = {
      description: "the GitHub Actions token endpoint",
      mint: async () => {
        throw new ClientError("id_token_permission_missing", "no permission");
      },
    };
    const broker = scripted([], { tokens: missing });
    const error = await failure(fetchCredentials(options, broker.deps));
    expect(error.code).toBe("id_token_permission_missing");
    expect(error.exitCode).toBe(3);
    expect(broker.requests).toHaveLength(0);
  });
});

describe("fetchCredentials: secrets stay out of debug output", () => {
  it("debug lines name attempts, statuses, request ids and token hashes, never a token or a credential", async () => {
    const broker = scripted([
      connectionRefused(),
      brokerError("rate_limited", 429, { "retry-after": "1" }),
      brokerError("token_reused", 401),
      json(credentialsBody()),
    ]);
    await fetchCredentials(options, broker.deps);
    const debug = broker.debugLines.join("\n");
    expect(debug).toContain("ECONNREFUSED");
    expect(debug).toContain("HTTP 429 rate_limited");
    expect(debug).toContain("0b7c6a52-9a6e-4c61-8f5e-2d1f3a4b5c6d");
    expect(debug).toContain(`sha256 ${await tokenHashPrefix(fakeJwt(1))}`);
    for (const secret of [...broker.minted, SECRET, SESSION_TOKEN]) expect(debug).not.toContain(secret);
    // Not even a fragment of a token: its signature part is what makes it usable.
    for (const token of broker.minted) expect(debug).not.toContain(token.split(".")[2]);
  });

  it("error messages carry no token or credential either", async () => {
    const broker = scripted([json(credentialsBody({ Expiration: "2000-01-01T00:00:00Z" }))]);
    const error = await failure(fetchCredentials(options, broker.deps));
    expect(error.code).toBe("not_credentials");
    for (const secret of [fakeJwt(1), SECRET, SESSION_TOKEN]) expect(error.message).not.toContain(secret);
  });
});
