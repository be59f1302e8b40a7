// STS's XML answers: the AssumeRole (and AssumeRoleWithWebIdentity) result, GetCallerIdentity's, and AWS's
// ErrorResponse in STS's namespace, as the API reference shows them. Pure rendering: every value is escaped.
// Reference: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_Examples.
import { type AwsErrorShape, errorResponse as awsErrorResponse, xmlEscape, xmlResponse } from "./aws-query-protocol.ts";
import type { AssumeRoleInput } from "./sts-assume-role-params.ts";
import type { Caller, IssuedSession } from "./sts-identities.ts";
import type { VerifiedWebIdentity } from "./sts-web-identity.ts";

/** The XML namespace of every STS query-protocol response. */
export const STS_XML_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";

export function errorResponse(error: AwsErrorShape): Response {
  return awsErrorResponse(error, STS_XML_NAMESPACE);
}

/** AssumeRole's (or AssumeRoleWithWebIdentity's, naming the token's subject, audience and provider) XML answer. */
export function assumeRoleAnswer(
  action: "AssumeRole" | "AssumeRoleWithWebIdentity",
  input: AssumeRoleInput,
  session: IssuedSession,
  expiration: string,
  webIdentity: VerifiedWebIdentity | undefined,
): Response {
  const { accessKeyId, secretAccessKey, sessionToken, arn, assumedRoleId } = session;
  const requestId = crypto.randomUUID();
  return xmlResponse(
    200,
    requestId,
    `<${action}Response xmlns="${STS_XML_NAMESPACE}"><${action}Result>` +
      (webIdentity === undefined
        ? ""
        : `<SubjectFromWebIdentityToken>${xmlEscape(webIdentity.subject)}</SubjectFromWebIdentityToken><Audience>${xmlEscape(webIdentity.audience)}</Audience>` +
          `<Provider>${xmlEscape(webIdentity.provider)}</Provider>`) +
      (input.sourceIdentity === undefined
        ? ""
        : `<SourceIdentity>${xmlEscape(input.sourceIdentity)}</SourceIdentity>`) +
      `<AssumedRoleUser><AssumedRoleId>${xmlEscape(assumedRoleId)}</AssumedRoleId><Arn>${xmlEscape(arn)}</Arn></AssumedRoleUser>` +
      `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${xmlEscape(secretAccessKey)}</SecretAccessKey>` +
      `<SessionToken>${xmlEscape(sessionToken)}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
      (input.packedPolicyPercent === undefined
        ? ""
        : `<PackedPolicySize>${input.packedPolicyPercent}</PackedPolicySize>`) +
      `</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  );
}

export function getCallerIdentity(caller: Caller): Response {
  const requestId = crypto.randomUUID();
  return xmlResponse(
    200,
    requestId,
    `<GetCallerIdentityResponse xmlns="${STS_XML_NAMESPACE}"><GetCallerIdentityResult><Arn>${xmlEscape(caller.arn)}</Arn>` +
      `<UserId>${xmlEscape(caller.userId)}</UserId><Account>${xmlEscape(caller.account)}</Account></GetCallerIdentityResult>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
  );
}
