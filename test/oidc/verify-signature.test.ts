// verifyToken against forged signatures: algorithm confusion (none, HS256 with the public key, a key's alg), tampered
// payloads, unknown or malformed kids, crit extensions, and key-location headers (jku, x5u, jwk, ...).
import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { encodeSegment, hmacToken, signCompact, spkiPem, unsignedToken } from "../../sandbox/fakes/fake-issuer.ts";
import { harness, invalidToken, payloadFor, rejection } from "./helpers.ts";

const utf8 = new TextEncoder();

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
