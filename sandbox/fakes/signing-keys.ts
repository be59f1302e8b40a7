// Broker signing keys for web-identity tests and the sandbox: generated at run time, never committed.
// Platform-neutral (WebCrypto via jose): workerd and Node.
import { exportJWK, exportPKCS8, generateKeyPair } from "jose";

export type KeyForm = "jwk" | "pem";

/** A fresh private key as the BROKER_SIGNING_KEY secret holds it: a private JWK (JSON) or a PKCS#8 PEM block. */
export async function generateSigningKeySecret(
  alg: "RS256" | "ES256" = "ES256",
  form: KeyForm = "jwk",
): Promise<string> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === "RS256" ? { modulusLength: 2048 } : {}),
  });
  return form === "pem" ? exportPKCS8(privateKey) : JSON.stringify(await exportJWK(privateKey));
}
