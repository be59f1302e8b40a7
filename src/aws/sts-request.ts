// The AssumeRole call in the AWS Query protocol: the form body of a POST to the STS endpoint.
// Pure; no I/O; no clock. https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
import type { AssumeRoleInput } from "./session.ts";

/** STS API version: fixes the parameter names below and the response namespace (see sts-response.ts). */
export const STS_API_VERSION = "2011-06-15";

/**
 * `Action=AssumeRole&Version=2011-06-15&RoleArn=…` with lists as `Name.member.N` (1-based), as the Query protocol
 * serialises them (https://docs.aws.amazon.com/STS/latest/APIReference/CommonParameters.html). Optional parameters
 * are left out, never sent empty. Values are sent as given: session.ts has already made them valid.
 */
export function assumeRoleForm(input: AssumeRoleInput): URLSearchParams {
  const form = new URLSearchParams();
  form.append("Action", "AssumeRole");
  form.append("Version", STS_API_VERSION);
  form.append("RoleArn", input.roleArn);
  form.append("RoleSessionName", input.roleSessionName);
  form.append("DurationSeconds", String(input.durationSeconds));
  form.append("SourceIdentity", input.sourceIdentity);
  input.tags.forEach((tag, index) => {
    form.append(`Tags.member.${index + 1}.Key`, tag.key);
    form.append(`Tags.member.${index + 1}.Value`, tag.value);
  });
  input.transitiveTagKeys.forEach((key, index) => form.append(`TransitiveTagKeys.member.${index + 1}`, key));
  if (input.sessionPolicy !== undefined) form.append("Policy", input.sessionPolicy);
  input.policyArns.forEach((arn, index) => form.append(`PolicyArns.member.${index + 1}.arn`, arn));
  if (input.externalId !== undefined) form.append("ExternalId", input.externalId);
  return form;
}

/**
 * `Action=AssumeRoleWithWebIdentity&…`: RoleArn, RoleSessionName, WebIdentityToken, DurationSeconds, Policy and
 * PolicyArns (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html). This action
 * has no Tags, TransitiveTagKeys, SourceIdentity or ExternalId parameters: tags and source identity travel as claims
 * of the token (src/idp/web-identity-token.ts), and a role needing an ExternalId cannot be used (policy compile refuses it).
 */
export function assumeRoleWithWebIdentityForm(input: AssumeRoleInput, webIdentityToken: string): URLSearchParams {
  const form = new URLSearchParams();
  form.append("Action", "AssumeRoleWithWebIdentity");
  form.append("Version", STS_API_VERSION);
  form.append("RoleArn", input.roleArn);
  form.append("RoleSessionName", input.roleSessionName);
  form.append("WebIdentityToken", webIdentityToken);
  form.append("DurationSeconds", String(input.durationSeconds));
  if (input.sessionPolicy !== undefined) form.append("Policy", input.sessionPolicy);
  input.policyArns.forEach((arn, index) => form.append(`PolicyArns.member.${index + 1}.arn`, arn));
  return form;
}
