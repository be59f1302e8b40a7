import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { BrokerError } from "../../src/errors.ts";
import { importSigningKey, loadSigningKeys } from "../../src/idp/signing-keys.ts";
import { generateSigningKeySecret } from "../../sandbox/fakes/signing-keys.ts";

/** A 1024-bit RSA key: jose refuses to generate one, WebCrypto does not. */
async function weakRsaKey(): Promise<CryptoKey> {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  return pair.privateKey;
}

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

describe("importSigningKey", () => {
  it.each([
    ["RS256", "jwk"],
    ["RS256", "pem"],
    ["ES256", "jwk"],
    ["ES256", "pem"],
  ] as const)(
    "%s as %s: kid is the RFC 7638 thumbprint of the public key; nothing private is published",
    async (alg, form) => {
      const key = await importSigningKey(await generateSigningKeySecret(alg, form), "BROKER_SIGNING_KEY");
      expect(key.alg).toBe(alg);
      expect(key.publicJwk).toMatchObject({ kty: alg === "RS256" ? "RSA" : "EC", use: "sig", alg, kid: key.kid });
      const { kid: _kid, use: _use, alg: _alg, ...members } = key.publicJwk;
      expect(key.kid).toBe(await calculateJwkThumbprint(members, "sha256"));
      for (const member of PRIVATE_MEMBERS) expect(key.publicJwk).not.toHaveProperty(member);
    },
  );

  it("a JWK with the optional members use, key_ops and ext imports (as jose's importJWK did)", async () => {
    const jwk = await exportJWK((await generateKeyPair("RS256", { extractable: true })).privateKey);
    const key = await importSigningKey(
      JSON.stringify({ ...jwk, use: "sig", key_ops: ["sign"], ext: true, alg: "RS256" }),
      "BROKER_SIGNING_KEY",
    );
    expect(key.alg).toBe("RS256");
    expect(key.privateKey.extractable).toBe(false);
  });

  it("the same key gives the same kid as JWK and as PEM", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const { exportPKCS8 } = await import("jose");
    const fromJwk = await importSigningKey(JSON.stringify(await exportJWK(privateKey)), "BROKER_SIGNING_KEY");
    const fromPem = await importSigningKey(await exportPKCS8(privateKey), "BROKER_SIGNING_KEY");
    expect(fromPem.kid).toBe(fromJwk.kid);
  });

  it.each([
    ["an RSA key under 2048 bits", async () => JSON.stringify(await exportJWK(await weakRsaKey()))],
    [
      "a P-384 key",
      async () => JSON.stringify(await exportJWK((await generateKeyPair("ES384", { extractable: true })).privateKey)),
    ],
    [
      "an RSA JWK labelled PS256",
      async () =>
        JSON.stringify({
          ...(await exportJWK((await generateKeyPair("RS256", { extractable: true })).privateKey)),
          alg: "PS256",
        }),
    ],
    [
      "a public JWK",
      async () => JSON.stringify(await exportJWK((await generateKeyPair("ES256", { extractable: true })).publicKey)),
    ],
    [
      "a P-384 key as PEM",
      async () =>
        (await import("jose")).exportPKCS8((await generateKeyPair("ES384", { extractable: true })).privateKey),
    ],
    ["an RSA key under 2048 bits as PEM", async () => (await import("jose")).exportPKCS8(await weakRsaKey())],
    [
      "a JWK whose key_ops exclude signing",
      async () =>
        JSON.stringify({
          ...(await exportJWK((await generateKeyPair("ES256", { extractable: true })).privateKey)),
          key_ops: ["verify"],
        }),
    ],
    ["garbage PEM", async () => "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"],
  ])("refuses %s: config_invalid naming the secret, not its value", async (_name, make) => {
    const secret = await make();
    const error = await importSigningKey(secret, "BROKER_SIGNING_KEY_NEXT").catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: "config_invalid", reason: "signing_key_invalid" });
    expect(String((error as BrokerError).cause)).toMatch(/^BROKER_SIGNING_KEY_NEXT: /);
    expect(String((error as BrokerError).cause)).not.toContain(secret.slice(0, 40));
  });
});

describe("loadSigningKeys: rotation", () => {
  it("publishes current then next; the same key as both is published once", async () => {
    const current = await generateSigningKeySecret("RS256", "pem");
    const next = await generateSigningKeySecret("ES256", "jwk");
    const keys = await loadSigningKeys({ signingKey: current, nextSigningKey: next });
    expect(keys.jwks.keys.map((key) => key.kid)).toEqual([keys.current.kid, keys.next?.kid]);
    expect(keys.current.kid).not.toBe(keys.next?.kid);
    expect((await loadSigningKeys({ signingKey: current, nextSigningKey: current })).jwks.keys).toHaveLength(1);
    expect((await loadSigningKeys({ signingKey: current, nextSigningKey: undefined })).jwks.keys).toHaveLength(1);
  });
});
