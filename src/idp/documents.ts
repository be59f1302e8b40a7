// The two documents the broker serves as an OpenID provider: discovery and JWKS. Pure; no I/O.
// AWS reads `jwks_uri` from `<issuer>/.well-known/openid-configuration` and fetches the keys there
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html); the document's `issuer`
// must equal the tokens' `iss` (OpenID Connect Discovery 1.0, section 4.3).
import { AWS_SOURCE_IDENTITY_CLAIM, AWS_TAGS_CLAIM } from "./web-identity-token.ts";
import type { SigningAlgorithm } from "../crypto/jws.ts";
import type { PublishedJwk } from "./signing-keys.ts";

export const DISCOVERY_PATH = "/.well-known/openid-configuration";
export const JWKS_PATH = "/.well-known/jwks.json";

export interface DiscoveryDocument {
  issuer: string;
  jwks_uri: string;
  response_types_supported: string[];
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: SigningAlgorithm[];
  claims_supported: string[];
}

/** The discovery document for `issuer` (an origin without trailing slash) whose keys use `algorithms`. */
export function discoveryDocument(issuer: string, algorithms: SigningAlgorithm[]): DiscoveryDocument {
  return {
    issuer,
    jwks_uri: `${issuer}${JWKS_PATH}`,
    // Required by Discovery 1.0 section 3; the broker only mints ID-token-shaped JWTs, it has no authorization
    // endpoint.
    response_types_supported: ["id_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [...new Set(algorithms)],
    claims_supported: ["iss", "sub", "aud", "iat", "exp", "jti", AWS_TAGS_CLAIM, AWS_SOURCE_IDENTITY_CLAIM],
  };
}

/** The JWKS document: public keys only (PublishedJwk has no private members by construction). */
export function jwksDocument(keys: PublishedJwk[]): { keys: PublishedJwk[] } {
  return {
    keys: keys.map(({ kty, kid, use, alg, n, e, crv, x, y }) => ({
      kty,
      kid,
      use,
      alg,
      ...(n === undefined ? {} : { n, e }),
      ...(crv === undefined ? {} : { crv, x, y }),
    })),
  };
}
