import { exportJWK } from "jose";
import { describe, expect, it } from "vitest";
import { keySelector, modulusBits, publicJwk, type PublicJwk } from "../../src/oidc/jwks-keys.ts";
import { harness, invalidToken, rejection } from "./helpers.ts";
import { JWKS_FRESH_MS } from "../../src/oidc/constants.ts";

describe("JWKS keys: usable keys only", () => {
  it("never uses a 1024-bit RSA key", async () => {
    const h = await harness();
    const kid = await h.fake.addKey({ modulusLength: 1024 });
    expect(await rejection(h.verify(await h.fake.mint({}, { kid })))).toEqual(invalidToken("kid_unknown"));
    // Even as the only key, for a token without kid.
    h.fake.setJwks({ keys: [h.fake.key(kid).publicJwk] });
    h.newIsolate();
    h.advance(JWKS_FRESH_MS);
    expect(await rejection(h.verify(await h.fake.mint({}, { kid, header: { kid: undefined } })))).toEqual(
      invalidToken("kid_missing"),
    );
  });

  it.each([
    ["use: enc", { use: "enc" }],
    ["key_ops without verify", { key_ops: ["encrypt"] }],
    ["malformed key_ops", { key_ops: "verify" }],
    ["alg RS384 on the key", { alg: "RS384" }],
    ["kty EC", { kty: "EC" }],
  ])("never uses a key with %s", async (_name, jwk) => {
    const h = await harness();
    const kid = await h.fake.addKey({ jwk });
    expect(await rejection(h.verify(await h.fake.mint({}, { kid })))).toEqual(invalidToken("kid_unknown"));
  });

  it("uses a key with key_ops [verify] and a key without use", async () => {
    const h = await harness();
    const a = await h.fake.addKey({ jwk: { key_ops: ["verify"] } });
    const b = await h.fake.addKey({ jwk: { use: undefined } });
    await h.verify(await h.fake.mint({}, { kid: a }));
    await h.verify(await h.fake.mint({}, { kid: b }));
  });

  it("drops private members: a JWKS that leaks the private key still yields a public verification key", async () => {
    const h = await harness();
    const signer = h.fake.key();
    const leaked = { ...(await exportJWK(signer.privateKey)), kid: signer.kid, alg: "RS256", use: "sig" };
    expect(leaked).toHaveProperty("d");
    h.fake.setJwks({ keys: [leaked] });
    const key = await h.jwks.getKey(h.config, { alg: "RS256", kid: signer.kid });
    expect(key.type).toBe("public");
    expect(key.usages).toEqual(["verify"]);
  });

  it("refuses an alg outside the issuer's list without fetching", async () => {
    const h = await harness();
    expect(await rejection(h.jwks.getKey(h.config, { alg: "HS256", kid: "x" }))).toEqual(
      invalidToken("alg_not_allowed"),
    );
    expect(await rejection(h.jwks.getKey(h.config, {}))).toEqual(invalidToken("alg_not_allowed"));
    expect(h.network.calls).toHaveLength(0);
  });

  it("modulusBits counts significant bits; the selector refuses ambiguous kids and weak keys", async () => {
    const h = await harness();
    const jwk = h.fake.key().publicJwk as PublicJwk & { n: string; kid: string };
    expect(modulusBits(jwk.n)).toBe(2048);
    expect(modulusBits("AAAB")).toBe(1);
    expect(modulusBits("!!")).toBe(0);
    expect(await keySelector([jwk])({ alg: "RS256", kid: jwk.kid })).toBeDefined();
    expect(await keySelector([jwk])({ alg: "RS256", kid: undefined })).toBeDefined();
    expect(await keySelector([jwk])({ alg: "PS256", kid: jwk.kid })).toBeUndefined(); // the key says alg RS256
    expect(await keySelector([jwk, jwk])({ alg: "RS256", kid: jwk.kid })).toBeUndefined();
    const weak = h.fake.key(await h.fake.addKey({ modulusLength: 1024 })).publicJwk as PublicJwk & { kid: string };
    expect(await keySelector([weak])({ alg: "RS256", kid: weak.kid })).toBeUndefined();
    // A weak key never makes a good one ambiguous for a token without kid.
    expect(await keySelector([weak, jwk])({ alg: "RS256", kid: undefined })).toBeDefined();
  });

  it("publicJwk keeps string members only; a malformed key_ops refuses the key", () => {
    expect(publicJwk({ kty: "RSA", n: "x", e: "AQAB", d: "secret", x5c: ["a"] })).toEqual({
      kty: "RSA",
      n: "x",
      e: "AQAB",
    });
    expect(publicJwk({ kty: "RSA", key_ops: "verify" })).toEqual({ kty: "RSA", key_ops: [] });
    expect(publicJwk({ n: "x" })).toBeUndefined();
  });
});
