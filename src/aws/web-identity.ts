// The STS stage in web-identity mode: AssumeRoleWithWebIdentity with a token the broker minted, sent UNSIGNED.
// AWS documents the call as needing no AWS credentials ("You do not need to sign the request"):
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html. Same retry, timeout and
// strict parsing as AssumeRole (callSts in ./sts-client.ts); the token is minted once and reused by every retry.
import { BrokerError } from "../errors.ts";
import type { AssumeRoleInput } from "./session.ts";
import { callSts, type AssumeRoleResult, type StsCallDeps } from "./sts-client.ts";
import { assumeRoleWithWebIdentityForm } from "./sts-request.ts";

export interface WebIdentityCallDeps extends StsCallDeps {
  /** The STS endpoint URL (config.aws.stsEndpoint). */
  stsEndpoint: string;
  /** Mints the broker's JWT for this input (src/idp/provider.ts); called once per exchange. */
  mintToken: (input: AssumeRoleInput) => Promise<string>;
}

/**
 * AssumeRoleWithWebIdentity for one granted request. Throws as callSts does; `config_invalid` for a role with an
 * ExternalId.
 */
export async function assumeRoleWithWebIdentity(
  input: AssumeRoleInput,
  deps: WebIdentityCallDeps,
): Promise<AssumeRoleResult> {
  // The API has no ExternalId: sending the call without it would ignore the operator's intent (compile refuses it too).
  if (input.externalId !== undefined) throw new BrokerError("config_invalid", "external_id_unsupported");
  const body = assumeRoleWithWebIdentityForm(input, await deps.mintToken(input));
  return callSts(
    "AssumeRoleWithWebIdentity",
    // No Authorization, X-Amz-Date or X-Amz-Security-Token: the broker holds no AWS credentials in this mode.
    async () =>
      new Request(deps.stsEndpoint, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8", accept: "text/xml" },
        body,
      }),
    deps,
  );
}
