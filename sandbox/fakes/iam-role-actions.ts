// The five IAM actions on a role that the fake IAM serves (GetRole, ListRolePolicies, GetRolePolicy, PutRolePolicy,
// DeleteRolePolicy), as AWS documents them: the parameter rules, the policy grammar check, the 10,240-character
// aggregate of a role's inline policies (white space not counted), documents answered URL-encoded (RFC 3986), and
// AccessDenied for an action the caller's identity policy does not allow. Pure: the role comes from the caller.
// References: https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html (and the other four),
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html.
import { AwsError, isoSeconds, xmlEscape, xmlResponse } from "./aws-query-protocol.ts";
import { policyGrammarProblem } from "./iam-policy.ts";

export const IAM_XML_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/";
/** Aggregate size of a role's inline policies, white space not counted (IAM quotas, "Role policy size"). */
const ROLE_INLINE_POLICIES_MAX_CHARS = 10_240;
/** PolicyDocument parameter length (API reference). */
const POLICY_DOCUMENT_MAX_CHARS = 131_072;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const POLICY_DOCUMENT_CHARS = /^[\u0009\u000A\u000D\u0020-\u00FF]+$/;
const MAX_ITEMS_DEFAULT = 100;
export type IamAction = "GetRole" | "ListRolePolicies" | "GetRolePolicy" | "PutRolePolicy" | "DeleteRolePolicy";

export interface IamPrincipal {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** The account the key belongs to: every role name it sends is looked up there. */
  account: string;
  /** IAM actions its identity policy allows; default all of them. Others answer AccessDenied. */
  allowedActions?: readonly IamAction[];
}

/** A role as the fake keeps it: its inline policies by name (documents decoded). */
export interface Role {
  arn: string;
  path: string;
  name: string;
  roleId: string;
  createdMs: number;
  policies: Map<string, string>;
}

/** Characters IAM counts against the size quotas: white space is not counted. */
export function countedPolicyChars(document: string): number {
  return document.replace(/\s/g, "").length;
}

/** RFC 3986 percent-encoding, as IAM returns policy documents. */
function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function validation(value: string | undefined, field: string, pattern: RegExp, text: string): AwsError | undefined {
  if (value === undefined)
    return new AwsError(
      400,
      "ValidationError",
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  if (!pattern.test(value))
    return new AwsError(
      400,
      "ValidationError",
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${text}`,
    );
  return undefined;
}

/** One action's XML answer (no Result element when `result` is empty). */
function ok(action: IamAction, result: string): Response {
  const requestId = crypto.randomUUID();
  const inner = result === "" ? "" : `<${action}Result>${result}</${action}Result>`;
  return xmlResponse(
    200,
    requestId,
    `<${action}Response xmlns="${IAM_XML_NAMESPACE}">${inner}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  );
}

/**
 * Runs one action for `principal` on the role `roleFor` finds (or creates, in the sandbox) by name. Throws AwsError
 * with IAM's code and status.
 */
export function runRoleAction(
  action: IamAction,
  params: Map<string, string>,
  principal: IamPrincipal,
  roleFor: (roleName: string) => Role,
): Response {
  const roleName = params.get("RoleName");
  const problem = validation(roleName, "roleName", ROLE_NAME, "[\\w+=,.@-]+");
  if (problem !== undefined) throw problem;
  const callerArn = `arn:aws:iam::${principal.account}:user/operator`;
  if (principal.allowedActions !== undefined && !principal.allowedActions.includes(action)) {
    throw new AwsError(
      403,
      "AccessDenied",
      `User: ${callerArn} is not authorized to perform: iam:${action} on resource: role ${roleName} because no identity-based policy allows the iam:${action} action`,
    );
  }
  const role = roleFor(roleName as string);
  if (action === "GetRole") return getRole(role);
  if (action === "ListRolePolicies") return listRolePolicies(role, params);
  const policyName = params.get("PolicyName");
  const nameProblem = validation(policyName, "policyName", POLICY_NAME, "[\\w+=,.@-]+");
  if (nameProblem !== undefined) throw nameProblem;
  const name = policyName as string;
  if (action === "GetRolePolicy" || action === "DeleteRolePolicy") return getOrDeleteRolePolicy(action, role, name);
  return putRolePolicy(role, name, params.get("PolicyDocument"));
}

function getRole(role: Role): Response {
  return ok(
    "GetRole",
    `<Role><Path>${xmlEscape(role.path)}</Path><RoleName>${xmlEscape(role.name)}</RoleName><RoleId>${role.roleId}</RoleId><Arn>${xmlEscape(role.arn)}</Arn>` +
      `<CreateDate>${isoSeconds(role.createdMs)}</CreateDate><AssumeRolePolicyDocument>${rfc3986('{"Version":"2012-10-17","Statement":[]}')}</AssumeRolePolicyDocument>` +
      `<MaxSessionDuration>3600</MaxSessionDuration></Role>`,
  );
}

/** One page of the role's policy names (MaxItems, Marker). */
function listRolePolicies(role: Role, params: Map<string, string>): Response {
  const names = [...role.policies.keys()].sort();
  const maxItems = Number(params.get("MaxItems") ?? MAX_ITEMS_DEFAULT);
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000)
    throw new AwsError(
      400,
      "ValidationError",
      "1 validation error detected: Value at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000",
    );
  const start = params.has("Marker") ? Number(atob(params.get("Marker") as string)) : 0;
  const page = names.slice(start, start + maxItems);
  const truncated = start + maxItems < names.length;
  return ok(
    "ListRolePolicies",
    `<PolicyNames>${page.map((name) => `<member>${xmlEscape(name)}</member>`).join("")}</PolicyNames><IsTruncated>${truncated}</IsTruncated>` +
      (truncated ? `<Marker>${btoa(String(start + maxItems))}</Marker>` : ""),
  );
}

function getOrDeleteRolePolicy(action: "GetRolePolicy" | "DeleteRolePolicy", role: Role, name: string): Response {
  const document = role.policies.get(name);
  if (document === undefined)
    throw new AwsError(404, "NoSuchEntity", `The role policy with name ${name} cannot be found.`);
  if (action === "DeleteRolePolicy") {
    role.policies.delete(name);
    return ok(action, "");
  }
  return ok(
    action,
    `<RoleName>${xmlEscape(role.name)}</RoleName><PolicyName>${xmlEscape(name)}</PolicyName><PolicyDocument>${rfc3986(document)}</PolicyDocument>`,
  );
}

/** PutRolePolicy: parameter constraints, then the grammar, then the role's aggregate size. */
function putRolePolicy(role: Role, name: string, document: string | undefined): Response {
  const documentProblem = validation(
    document,
    "policyDocument",
    POLICY_DOCUMENT_CHARS,
    "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
  );
  if (documentProblem !== undefined) throw documentProblem;
  if ((document as string).length > POLICY_DOCUMENT_MAX_CHARS)
    throw new AwsError(
      400,
      "ValidationError",
      `1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: Member must have length less than or equal to ${POLICY_DOCUMENT_MAX_CHARS}`,
    );
  const grammar = policyGrammarProblem(document as string);
  if (grammar !== undefined) throw new AwsError(400, "MalformedPolicyDocument", grammar);
  let total = countedPolicyChars(document as string);
  for (const [other, text] of role.policies) if (other !== name) total += countedPolicyChars(text);
  if (total > ROLE_INLINE_POLICIES_MAX_CHARS)
    throw new AwsError(
      409,
      "LimitExceeded",
      `Maximum policy size of ${ROLE_INLINE_POLICIES_MAX_CHARS} bytes exceeded for role ${role.name}`,
    );
  role.policies.set(name, document as string);
  return ok("PutRolePolicy", "");
}
