// The broker's OpenID provider for one configuration: signing keys imported once per isolate, tokens minted on
// demand, discovery and JWKS documents. The clock and the jti source are injected.
import type { AssumeRoleInput } from "../aws/session.ts";
import type { Clock } from "../deps.ts";
import type { WebIdentityOptions } from "./config.ts";
import { discoveryDocument, jwksDocument, type DiscoveryDocument } from "./documents.ts";
import { loadSigningKeys, type PublishedJwk, type SigningKeys } from "./signing-keys.ts";
import { signWebIdentityToken, webIdentityClaims, type DecidedSubject } from "./web-identity-token.ts";

export interface IdentityProvider {
  readonly issuer: string;
  /** A signed token for this granted request (current key). Throws `config_invalid` when the key does not import. */
  mint(input: AssumeRoleInput, decided: DecidedSubject): Promise<string>;
  discovery(): Promise<DiscoveryDocument>;
  jwks(): Promise<{ keys: PublishedJwk[] }>;
}

export interface IdentityProviderDeps {
  now: Clock;
  /** A unique token id; default crypto.randomUUID (122 random bits). */
  newJti?: () => string;
}

export function createIdentityProvider(options: WebIdentityOptions, deps: IdentityProviderDeps): IdentityProvider {
  // Imported once; a bad key stays a rejected promise, so every request fails the same way (config_invalid).
  let keys: Promise<SigningKeys> | undefined;
  const loaded = () => (keys ??= loadSigningKeys(options));
  const newJti = deps.newJti ?? (() => crypto.randomUUID());
  return {
    issuer: options.issuerUrl,
    async mint(input, decided) {
      const { current } = await loaded();
      return signWebIdentityToken(webIdentityClaims(input, decided, options.issuerUrl, deps.now(), newJti()), current);
    },
    async discovery() {
      const { jwks } = await loaded();
      return discoveryDocument(
        options.issuerUrl,
        jwks.keys.map((key) => key.alg),
      );
    },
    async jwks() {
      return jwksDocument((await loaded()).jwks.keys);
    },
  };
}
