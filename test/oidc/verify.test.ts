import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { MAX_JTI_CHARS, MAX_TOKEN_BYTES } from "../../src/oidc/constants.ts";
import {
  createFakeIssuer,
  encodeSegment,
  githubClaims,
  hmacToken,
  signCompact,
  spkiPem,
  unsignedToken,
} from "../support/fake-issuer.ts";
import { harness, invalidToken, JWKS_UNAVAILABLE, rejection, START_MS } from "./helpers.ts";

const NOW_S = START_MS / 1000;
const utf8 = new TextEncoder();

/** A payload the harness issuer would sign, for hand-built tokens. */
function payloadFor(issuer: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...githubClaims(),
    iss: issuer,
    aud: "ci-credential-broker",
    iat: NOW_S,
    nbf: NOW_S - 300,
    exp: NOW_S + 300,
    ...overrides,
  };
}

describe("verifyToken: genuine tokens", () => {
  it("accepts a GitHub-shaped token and returns issuer, claims and registered claims", async () => {
    const h = await harness();
    const token = await h.fake.mint({ jti: "jti-1" });
    const verified = await h.verify(token);
    expect(verified.issuer).toBe(h.config);
    expect(verified.jti).toBe("jti-1");
    expect(verified.iat).toBe(NOW_S);
    expect(verified.nbf).toBe(NOW_S - 300);
    expect(verified.exp).toBe(NOW_S + 300);
    expect(verified.claims).toMatchObject({ repository: "acme/app" });
    expect(verified.claims).not.toHaveProperty("aud");
    expect(h.fake.fetchCount).toBe(1);
  });

  it("accepts a token without nbf", async () => {
    const h = await harness();
    expect((await h.verify(await h.fake.mint({}, { omit: ["nbf"] }))).nbf).toBeUndefined();
  });

  it("accepts a token without kid when the set has exactly one usable key", async () => {
    const h = await harness();
    await h.verify(await h.fake.mint({}, { header: { kid: undefined } }));
  });

  it("refuses a token without kid when the set has two usable keys", async () => {
    const h = await harness();
    await h.fake.addKey();
    // Final at once: without a kid there is nothing a refetch could find.
    expect(await rejection(h.verify(await h.fake.mint({}, { header: { kid: undefined } })))).toEqual(
      invalidToken("kid_missing"),
    );
    expect(h.fake.fetchCount).toBe(1);
  });

  it("picks the issuer by exact iss among several and never uses another issuer's keys", async () => {
    const h = await harness();
    const other = await createFakeIssuer({ issuer: `https://issuer-${crypto.randomUUID()}.test`, now: h.now });
    h.network.route(other.issuer, other.handler);
    const otherConfig = { ...h.config, id: "other", issuer: other.issuer, jwksUri: other.jwksUri };
    const issuers = [h.config, otherConfig];
    expect((await h.verify(await other.mint(), issuers)).issuer).toBe(otherConfig);
    expect((await h.verify(await h.fake.mint(), issuers)).issuer).toBe(h.config);
    // Signed by `other`, claiming to be `h`: h's JWKS does not hold other's kid.
    const forged = await other.mint({ iss: h.fake.issuer });
    expect(await rejection(h.verify(forged, issuers))).toEqual(invalidToken("kid_unknown"));
  });
});

describe("verifyToken: algorithm attacks", () => {
  it("rejects alg none: empty signature is malformed, a junk signature is alg_not_allowed; no fetch", async () => {
    const h = await harness();
    const payload = payloadFor(h.fake.issuer);
    expect(await rejection(h.verify(unsignedToken({ alg: "none", typ: "JWT" }, payload)))).toEqual(
      invalidToken("token_malformed"),
    );
    expect(await rejection(h.verify(unsignedToken({ alg: "none", typ: "JWT" }, payload, "AAAA")))).toEqual(
      invalidToken("alg_not_allowed"),
    );
    expect(await rejection(h.verify(unsignedToken({ alg: "None", typ: "JWT" }, payload, "AAAA")))).toEqual(
      invalidToken("alg_not_allowed"),
    );
    expect(h.network.calls).toHaveLength(0);
  });

  it("rejects HS256 signed with the issuer's RSA public key as the HMAC secret (PEM and JWK forms)", async () => {
    const h = await harness();
    const key = h.fake.key();
    const header = { alg: "HS256", typ: "JWT", kid: key.kid };
    const payload = payloadFor(h.fake.issuer);
    const pem = await hmacToken(header, payload, utf8.encode(await spkiPem(key.publicKey)));
    const jwkJson = await hmacToken(header, payload, utf8.encode(JSON.stringify(key.publicJwk)));
    expect(await rejection(h.verify(pem))).toEqual(invalidToken("alg_not_allowed"));
    expect(await rejection(h.verify(jwkJson))).toEqual(invalidToken("alg_not_allowed"));
    expect(h.network.calls).toHaveLength(0);
  });

  it.each(["PS256", "ES256"])(
    "rejects a %s token signed with another key when only RS256 is configured",
    async (alg) => {
      const h = await harness();
      const { privateKey } = await generateKeyPair(alg);
      const token = await signCompact(
        { alg, typ: "JWT", kid: h.fake.key().kid },
        payloadFor(h.fake.issuer),
        privateKey,
      );
      expect(await rejection(h.verify(token))).toEqual(invalidToken("alg_not_allowed"));
      expect(h.network.calls).toHaveLength(0);
    },
  );

  it("rejects PS256 when allowed but the issuer's key is published for RS256 only (key alg must equal token alg)", async () => {
    const h = await harness({ algorithms: ["RS256", "PS256"] });
    const { privateKey } = await generateKeyPair("PS256");
    const token = await signCompact(
      { alg: "PS256", typ: "JWT", kid: h.fake.key().kid },
      payloadFor(h.fake.issuer),
      privateKey,
    );
    expect(await rejection(h.verify(token))).toEqual(invalidToken("kid_unknown"));
  });

  it("rejects a header alg that differs from the key's published alg (RS384 header on the RS256 key)", async () => {
    const h = await harness({ algorithms: ["RS256", "RS384"] });
    expect(await rejection(h.verify(await h.fake.mint({}, { alg: "RS384" })))).toEqual(invalidToken("kid_unknown"));
  });

  it("rejects a PS256 signature by a foreign key when the issuer key carries no alg: signature_invalid", async () => {
    const h = await harness({ algorithms: ["RS256", "PS256"] });
    const { alg: _alg, ...withoutAlg } = h.fake.key().publicJwk;
    h.fake.setJwks({ keys: [withoutAlg] });
    const { privateKey } = await generateKeyPair("PS256");
    const token = await signCompact(
      { alg: "PS256", typ: "JWT", kid: h.fake.key().kid },
      payloadFor(h.fake.issuer),
      privateKey,
    );
    expect(await rejection(h.verify(token))).toEqual(invalidToken("signature_invalid"));
  });

  it("rejects a tampered payload: signature_invalid", async () => {
    const h = await harness();
    const [header, , signature] = (await h.fake.mint()).split(".");
    const tampered = `${header}.${encodeSegment(payloadFor(h.fake.issuer, { repository: "acme/prod" }))}.${signature}`;
    expect(await rejection(h.verify(tampered))).toEqual(invalidToken("signature_invalid"));
  });

  it.each([
    ["typ missing", { typ: undefined }],
    ["typ at+jwt", { typ: "at+jwt" }],
    ["typ as a number", { typ: 1 }],
  ])("rejects %s as typ_invalid", async (_name, header) => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint({}, { header })))).toEqual(invalidToken("typ_invalid"));
  });

  it("rejects an unknown kid", async () => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint({}, { header: { kid: "not-a-kid" } })))).toEqual(
      invalidToken("kid_unknown"),
    );
  });

  it("rejects a non-string kid as malformed", async () => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint({}, { header: { kid: 1 } })))).toEqual(
      invalidToken("token_malformed"),
    );
  });

  it("rejects an unrecognised crit extension before any fetch", async () => {
    const h = await harness();
    const token = await h.fake.mint(
      {},
      { header: { crit: ["urn:example:must-understand"], "urn:example:must-understand": true } },
    );
    expect(await rejection(h.verify(token))).toEqual(invalidToken("header_forbidden"));
    expect(h.network.calls).toHaveLength(0);
  });
});

describe("verifyToken: key-location headers", () => {
  it.each([
    ["jku", async () => ({ jku: "https://attacker.test/jwks" })],
    ["x5u", async () => ({ x5u: "https://attacker.test/cert.pem" })],
    ["x5c", async () => ({ x5c: ["MIIBIjAN"] })],
    [
      "jwk",
      async () => {
        const { publicKey } = await generateKeyPair("RS256", { extractable: true });
        return { jwk: await exportJWK(publicKey) };
      },
    ],
  ])("rejects a %s header as header_forbidden with no outbound fetch", async (_name, makeHeader) => {
    const h = await harness();
    h.network.route("https://attacker.test", () => new Response(JSON.stringify({ keys: [] })));
    const token = await h.fake.mint({}, { header: await makeHeader() });
    expect(await rejection(h.verify(token))).toEqual(invalidToken("header_forbidden"));
    expect(h.network.callsTo("https://attacker.test")).toHaveLength(0);
    expect(h.network.calls).toHaveLength(0);
  });

  it("rejects a jwk header even when the token is signed by the embedded key", async () => {
    const h = await harness();
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const token = await signCompact(
      { alg: "RS256", typ: "JWT", jwk: await exportJWK(publicKey) },
      payloadFor(h.fake.issuer),
      privateKey,
    );
    expect(await rejection(h.verify(token))).toEqual(invalidToken("header_forbidden"));
    expect(h.network.calls).toHaveLength(0);
  });
});

describe("verifyToken: issuer and audience", () => {
  it.each([
    ["a trailing slash", (iss: string) => `${iss}/`],
    ["http://", (iss: string) => iss.replace("https://", "http://")],
    ["an upper-case host", (iss: string) => iss.replace("https://issuer", "https://ISSUER")],
    ["the real GitHub issuer", () => "https://token.actions.githubusercontent.com"],
  ])("rejects iss with %s as issuer_unknown, with no fetch", async (_name, alter) => {
    const h = await harness();
    const token = await h.fake.mint({ iss: alter(h.fake.issuer) });
    expect(await rejection(h.verify(token))).toEqual(invalidToken("issuer_unknown"));
    expect(h.network.calls).toHaveLength(0);
  });

  it.each([
    ["missing", { omit: ["iss"] }, {}],
    ["an array", {}, { iss: ["x"] }],
  ])("rejects iss %s as issuer_unknown", async (_name, options, claims) => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint(claims, options)))).toEqual(invalidToken("issuer_unknown"));
  });

  it.each(["https://github.com/acme", "sts.amazonaws.com", "CI-CREDENTIAL-BROKER"])(
    "rejects aud %s when not configured",
    async (aud) => {
      const h = await harness();
      expect(await rejection(h.verify(await h.fake.mint({ aud })))).toEqual(invalidToken("audience_mismatch"));
    },
  );

  it.each(["https://github.com/acme", "sts.amazonaws.com"])("accepts aud %s when configured", async (aud) => {
    const h = await harness({ audiences: ["ci-credential-broker", aud] });
    await h.verify(await h.fake.mint({ aud }));
  });

  it.each([
    ["holding only our audience", ["ci-credential-broker"]],
    ["holding ours among others", ["ci-credential-broker", "https://other-deployment.example"]],
  ])("rejects an array aud %s as audience_not_string (GitHub and GitLab send one string)", async (_name, aud) => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint({ aud })))).toEqual(invalidToken("audience_not_string"));
  });

  it("rejects a missing aud as claim_missing", async () => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint({}, { omit: ["aud"] })))).toEqual(invalidToken("claim_missing"));
  });
});

describe("verifyToken: time", () => {
  const at = (iat: number, exp: number, nbf?: number) => ({
    iat: NOW_S + iat,
    exp: NOW_S + exp,
    nbf: nbf === undefined ? undefined : NOW_S + nbf,
  });

  it("rejects a token expired by 11 s and accepts one expired by 9 s (10 s tolerance)", async () => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint(at(-300, -11, -600))))).toEqual(invalidToken("token_expired"));
    await h.verify(await h.fake.mint(at(-300, -9, -600)));
  });

  it("rejects nbf 11 s ahead and accepts nbf 9 s ahead", async () => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint(at(0, 300, 11))))).toEqual(invalidToken("token_not_yet_valid"));
    await h.verify(await h.fake.mint(at(0, 300, 9)));
  });

  it("rejects iat older than maxTokenAge + tolerance as token_too_old", async () => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint(at(-(15 * 60) - 11, 60, -(15 * 60) - 11))))).toEqual(
      invalidToken("token_too_old"),
    );
    await h.verify(await h.fake.mint(at(-(15 * 60) - 9, 60, -(15 * 60) - 9)));
  });

  it("rejects iat 11 s in the future as token_not_yet_valid", async () => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint(at(11, 300))))).toEqual(invalidToken("token_not_yet_valid"));
  });

  it("rejects a lifetime above maxTokenLifetimeSeconds and accepts exactly the limit", async () => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint(at(0, 3601))))).toEqual(invalidToken("lifetime_too_long"));
    await h.verify(await h.fake.mint(at(0, 3600)));
  });

  it("rejects exp not after iat", async () => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint({ iat: NOW_S + 5, exp: NOW_S + 5, nbf: undefined })))).toEqual(
      invalidToken("claims_invalid"),
    );
  });

  it.each(["exp", "iat", "jti"])("rejects a token without %s as claim_missing", async (claim) => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint({}, { omit: [claim] })))).toEqual(invalidToken("claim_missing"));
  });

  it.each([
    ["exp as a string", { exp: String(NOW_S + 300) }],
    ["iat as a string", { iat: String(NOW_S) }],
    ["nbf as a string", { nbf: String(NOW_S - 300) }],
    ["non-integer exp", { exp: NOW_S + 300.5 }],
    ["non-integer iat", { iat: NOW_S - 0.5 }],
    ["non-integer nbf", { nbf: NOW_S - 300.5 }],
    ["exp beyond safe integers", { exp: 2 ** 60 }],
  ])("rejects %s as claims_invalid", async (_name, claims) => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint(claims)))).toEqual(invalidToken("claims_invalid"));
  });
});

describe("verifyToken: claims", () => {
  it.each([
    ["jti empty", { jti: "" }],
    ["jti too long", { jti: "j".repeat(MAX_JTI_CHARS + 1) }],
    ["jti as a number", { jti: 7 }],
    ["repository as an array", { repository: ["acme/app"] }],
    ["repository as a number", { repository: 42 }],
    ["repository as null", { repository: null }],
    ["repository_id not digits", { repository_id: "R_kgDOabc" }],
  ])("rejects %s as claims_invalid", async (_name, claims) => {
    const h = await harness();
    expect(await rejection(h.verify(await h.fake.mint(claims)))).toEqual(invalidToken("claims_invalid"));
  });

  it("accepts a jti of exactly MAX_JTI_CHARS", async () => {
    const h = await harness();
    expect((await h.verify(await h.fake.mint({ jti: "j".repeat(MAX_JTI_CHARS) }))).jti).toHaveLength(MAX_JTI_CHARS);
  });
});

describe("verifyToken: shape (before any cryptography or fetch)", () => {
  it("rejects a token over 8 KiB as token_too_large", async () => {
    const h = await harness();
    const token = await h.fake.mint({ padding: "x".repeat(MAX_TOKEN_BYTES) });
    expect(await rejection(h.verify(token))).toEqual(invalidToken("token_too_large"));
    expect(h.network.calls).toHaveLength(0);
  });

  it.each([
    ["2 segments", (t: string) => t.split(".").slice(0, 2).join(".")],
    ["4 segments", (t: string) => `${t}.AAAA`],
    ["padding =", (t: string) => `${t}=`],
    ["a non-JSON payload", (t: string) => t.replace(/\.[^.]+\./, ".bm90IGpzb24.")],
    ["a non-JSON header", (t: string) => t.replace(/^[^.]+\./, "bm90IGpzb24.")],
  ])("rejects %s as token_malformed", async (_name, alter) => {
    const h = await harness();
    expect(await rejection(h.verify(alter(await h.fake.mint())))).toEqual(invalidToken("token_malformed"));
    expect(h.network.calls).toHaveLength(0);
  });
});

describe("verifyToken: JWKS unavailable", () => {
  it("passes upstream_unavailable / jwks_unavailable through unchanged", async () => {
    const h = await harness();
    h.fake.fail("down");
    expect(await rejection(h.verify(await h.fake.mint()))).toEqual(JWKS_UNAVAILABLE);
  });
});
