// Parses POST /v1/github-token: the OIDC token (Bearer or body `token`) and the grant's `name`.
// Pure; no I/O. Failures as for /v1/credentials (credential-request.ts): `invalid_request` or `unsupported_media_type`.
import * as z from "zod/mini";
import { GRANT_NAME_PATTERN, parseTokenRequest, type RawCredentialRequest } from "./credential-request.ts";

export interface GithubTokenRequest {
  token: string;
  /** The grant asked for, by name (an unknown one is denied by the policy, not here). */
  name: string;
}

const BodySchema = z.strictObject({
  token: z.optional(z.string()),
  name: z.string().check(z.regex(GRANT_NAME_PATTERN)),
});

export function parseGithubTokenRequest(raw: RawCredentialRequest): GithubTokenRequest {
  const { token, body } = parseTokenRequest(raw, BodySchema, undefined);
  return { token, name: body.name };
}
