// GET /.well-known/openid-configuration and /.well-known/jwks.json: served in web-identity mode only, 404 otherwise
// (a sigv4 broker is no OpenID provider, and says nothing about its configuration).
import { WELL_KNOWN_MAX_AGE_SECONDS } from "./constants.ts";
import { BrokerError } from "../errors.ts";
import { errorResponse, jsonResponse } from "../http/respond.ts";
import { DISCOVERY_PATH, JWKS_PATH } from "./documents.ts";
import type { IdentityProvider } from "./provider.ts";

export const WELL_KNOWN_PATHS = [DISCOVERY_PATH, JWKS_PATH];

/** The document at `path`; `provider` throws `config_invalid` on a bad configuration (rendered by the app). */
export async function wellKnownResponse(
  path: string,
  provider: () => IdentityProvider | undefined,
  requestId: string,
): Promise<Response> {
  const idp = provider();
  if (idp === undefined) return errorResponse(new BrokerError("not_found", "route_not_found"), requestId);
  const response = jsonResponse(path === DISCOVERY_PATH ? await idp.discovery() : await idp.jwks(), requestId);
  // Public documents AWS and any verifier may cache; short, so a newly published next key is seen quickly.
  response.headers.set("cache-control", `public, max-age=${WELL_KNOWN_MAX_AGE_SECONDS}`);
  return response;
}
