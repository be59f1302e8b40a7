// The AssumeRole call in the AWS Query protocol: the form body of a POST to the STS endpoint.
// Pure; no I/O; no clock. https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
import type { AssumeRoleInput } from "./session.ts";

// `encodeURIComponent` leaves these as they are; the urlencoded serializer escapes them, and writes a space as `+`.
const NOT_FORM_SAFE = /[!'()~]|%20/g;

/** One name or value as the WHATWG application/x-www-form-urlencoded serializer writes it (as URLSearchParams does). */
export function formEncode(text: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(text);
  } catch {
    // A lone surrogate: URLSearchParams writes it as U+FFFD. Never the case for session.ts's values; kept exact anyway.
    return new URLSearchParams([["", text]]).toString().slice(1);
  }
  return encoded.replace(NOT_FORM_SAFE, (match) =>
    match === "%20" ? "+" : `%${match.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * A form body built in plain strings: byte for byte what `URLSearchParams#toString` gives, without a runtime object
 * per parameter (an AssumeRole has ~35 of them; docs/performance.md).
 */
class FormBody {
  readonly #parts: string[] = [];

  append(name: string, value: string): void {
    this.#parts.push(`${formEncode(name)}=${formEncode(value)}`);
  }

  toString(): string {
    return this.#parts.join("&");
  }
}

/** STS API version: fixes the parameter names below and the response namespace (see sts-response.ts). */
export const STS_API_VERSION = "2011-06-15";

/**
 * `Action=AssumeRole&Version=2011-06-15&RoleArn=…` with lists as `Name.member.N` (1-based), as the Query protocol
 * serialises them (https://docs.aws.amazon.com/STS/latest/APIReference/CommonParameters.html). Optional parameters
 * are left out, never sent empty. Values are sent as given: session.ts has already made them valid.
 */
export function assumeRoleForm(input: AssumeRoleInput): string {
  const form = new FormBody();
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
  for (const [index, key] of input.transitiveTagKeys.entries())
    form.append(`TransitiveTagKeys.member.${index + 1}`, key);
  if (input.sessionPolicy !== undefined) form.append("Policy", input.sessionPolicy);
  for (const [index, arn] of input.policyArns.entries()) form.append(`PolicyArns.member.${index + 1}.arn`, arn);
  if (input.externalId !== undefined) form.append("ExternalId", input.externalId);
  return form.toString();
}

/**
 * `Action=AssumeRoleWithWebIdentity&…`: RoleArn, RoleSessionName, WebIdentityToken, DurationSeconds, Policy and
 * PolicyArns (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html). This action
 * has no Tags, TransitiveTagKeys, SourceIdentity or ExternalId parameters: tags and source identity travel as claims
 * of the token (src/idp/web-identity-token.ts), and a role needing an ExternalId cannot be used (policy compile refuses
 * it).
 */
export function assumeRoleWithWebIdentityForm(input: AssumeRoleInput, webIdentityToken: string): string {
  const form = new FormBody();
  form.append("Action", "AssumeRoleWithWebIdentity");
  form.append("Version", STS_API_VERSION);
  form.append("RoleArn", input.roleArn);
  form.append("RoleSessionName", input.roleSessionName);
  form.append("WebIdentityToken", webIdentityToken);
  form.append("DurationSeconds", String(input.durationSeconds));
  if (input.sessionPolicy !== undefined) form.append("Policy", input.sessionPolicy);
  for (const [index, arn] of input.policyArns.entries()) form.append(`PolicyArns.member.${index + 1}.arn`, arn);
  return form.toString();
}
