// The App JWT the App key (PKCS#1 PEM, generated here) signs.
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { pemToPkcs8 } from "../../src/crypto/pem.ts";
import { importAppKey, signAppJwt } from "../../src/github/app-key.ts";
import { generateAppKey } from "../../sandbox/fakes/github-app-key.ts";

describe("App key", () => {
  it("signs an RS256 App JWT: iss = app id, iat 60 s back, exp within GitHub's 10 minutes", async () => {
    const key = await generateAppKey();
    const now = Date.UTC(2026, 10, 25, 12, 0, 0);
    const { jwt, expiresAt } = await signAppJwt("424242", await importAppKey(pemToPkcs8(key.pkcs1Pem)), now);
    expect(decodeProtectedHeader(jwt).alg).toBe("RS256");
    const claims = decodeJwt(jwt);
    expect(claims.iss).toBe("424242");
    expect(claims.iat).toBe(now / 1000 - 60);
    expect(claims.exp).toBe(expiresAt);
    expect((claims.exp as number) - now / 1000).toBeLessThanOrEqual(600);
    await expect(jwtVerify(jwt, key.publicKey, { currentDate: new Date(now) })).resolves.toBeDefined();
  });
});
