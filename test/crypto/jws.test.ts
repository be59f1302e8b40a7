// The compact JWS signer the broker's own JWTs use (web-identity token, GitHub App JWT), checked by jose's verifier.
import { decodeProtectedHeader, generateKeyPair, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { signJwt } from "../../src/crypto/jws.ts";
import { importSigningKey } from "../../src/idp/signing-keys.ts";
import { generateSigningKeySecret } from "../../sandbox/fakes/signing-keys.ts";

describe("signJwt", () => {
  it.each(["RS256", "ES256"] as const)(
    "%s: jose verifies it with the published key; header and claims as given",
    async (alg) => {
      const key = await importSigningKey(await generateSigningKeySecret(alg, "pem"), "BROKER_SIGNING_KEY");
      const claims = {
        iss: "https://broker.example",
        sub: "repo:acme/app",
        aud: "sts.amazonaws.com",
        iat: 1_800_000_000,
        exp: 1_800_000_300,
        "https://aws.amazon.com/tags": { principal_tags: { Team: ["platform"] } },
      };
      const token = await signJwt({ alg, kid: key.kid, typ: "JWT" }, claims, key.privateKey);
      expect(decodeProtectedHeader(token)).toEqual({ alg, kid: key.kid, typ: "JWT" });
      const { payload } = await jwtVerify(
        token,
        { ...key.publicJwk },
        { algorithms: [alg], currentDate: new Date(1_800_000_100_000) },
      );
      expect(payload).toEqual(claims);
    },
  );

  it("a signature by another key does not verify", async () => {
    const key = await importSigningKey(await generateSigningKeySecret("ES256"), "BROKER_SIGNING_KEY");
    const other = await generateKeyPair("ES256");
    const token = await signJwt({ alg: "ES256", typ: "JWT" }, { iat: 1_800_000_000 }, key.privateKey);
    await expect(jwtVerify(token, other.publicKey, { currentDate: new Date(1_800_000_000_000) })).rejects.toMatchObject(
      { code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" },
    );
  });

  it("refuses a key imported for another algorithm than the header names", async () => {
    const rsa = await importSigningKey(await generateSigningKeySecret("RS256"), "BROKER_SIGNING_KEY");
    await expect(signJwt({ alg: "ES256", typ: "JWT" }, {}, rsa.privateKey)).rejects.toThrow();
  });
});
