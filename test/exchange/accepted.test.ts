// What every rejection table of POST /v1/credentials differs from: a genuine token, and tokens accepted within the
// clock tolerance or by what the issuer's configuration allows (each the control of a rejection row).
import { describe, it } from "vitest";
import { AUDIENCE, createHarness } from "../support/broker-harness.ts";
import { expectIssued, expectRejected, times } from "./helpers.ts";

// --- Baseline -----------------------------------------------------------------------------------

describe("baseline", () => {
  it("a genuine token gets 200 with credentials (every rejection below differs from it in one respect)", async () => {
    const h = await createHarness();
    await expectIssued(h, await h.request(await h.mint()));
  });
});

describe("accepted within tolerance or when configured", () => {
  it("a token expired by 9 s is ACCEPTED (clock tolerance 10 s): 200 with credentials", async () => {
    const h = await createHarness();
    await expectIssued(h, await h.request(await h.mint(times(h, { iat: -300, nbf: -600, exp: -9 }))));
  });

  it("with audiences [sts.amazonaws.com] configured, a token with that aud gets 200", async () => {
    const h = await createHarness({ issuerConfig: { audiences: ["sts.amazonaws.com"] } });
    await expectIssued(h, await h.request(await h.mint({ aud: "sts.amazonaws.com" })));
  });

  it("with audiences [sts.amazonaws.com] configured, the default audience is then refused", async () => {
    const h = await createHarness({ issuerConfig: { audiences: ["sts.amazonaws.com"] } });
    const token = await h.mint({ aud: AUDIENCE });
    await expectRejected(h, await h.request(token), {
      status: 401,
      code: "invalid_token",
      reason: "audience_mismatch",
      token,
    });
  });

  // Control for the PS256/ES256 rows: the same tokens are otherwise valid, so only the allowlist rejected them.
  it.each(["PS256", "ES256"])(
    "a %s token from a served key gets 200 once the issuer's algorithms allow it",
    async (alg) => {
      const h = await createHarness({ issuerConfig: { algorithms: ["RS256", alg] } });
      await expectIssued(h, await h.request(await h.mint({}, { kid: await h.issuer.addKey({ alg }) })));
    },
  );
});
