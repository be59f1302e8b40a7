// An in-process fake of AWS IAM's Query API, the part `npm run revoke` uses: GetRole, ListRolePolicies, GetRolePolicy,
// PutRolePolicy, DeleteRolePolicy. It follows AWS's documentation: SigV4 verified as STS verifies it (service `iam`,
// region us-east-1, ./aws-query-protocol.ts), roles live in the account of the caller's key (IAM takes a role *name*),
// AWS's parameter rules, the 10,240-character aggregate of a role's inline policies (white space not counted), a
// policy grammar check (MalformedPolicyDocument), policy documents answered URL-encoded (RFC 3986), and errors as
// `<ErrorResponse>`: NoSuchEntity 404, LimitExceeded 409, MalformedPolicyDocument 400, AccessDenied 403.
// Limits are declared here, not imported from src/: the fake stands in for AWS, not for what the CLI believes.
// References: https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html (and GetRole,
// ListRolePolicies, GetRolePolicy, DeleteRolePolicy), https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html.
import {
  AwsError,
  errorResponse,
  isoSeconds,
  readQueryParams,
  verifySigV4,
  xmlEscape,
  xmlResponse,
} from "./aws-query-protocol.ts";
import { policyGrammarProblem } from "./iam-policy.ts";

export const IAM_XML_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/";
const IAM_API_VERSION = "2010-05-08";
/** IAM is global; its endpoint signs for us-east-1 (aws partition). */
const IAM_SIGNING_REGION = "us-east-1";
/** Aggregate size of a role's inline policies, white space not counted (IAM quotas, "Role policy size"). */
const ROLE_INLINE_POLICIES_MAX_CHARS = 10_240;
/** PolicyDocument parameter length (API reference). */
const POLICY_DOCUMENT_MAX_CHARS = 131_072;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const POLICY_DOCUMENT_CHARS = /^[\u0009\u000A\u000D\u0020-\u00FF]+$/;
const MAX_ITEMS_DEFAULT = 100;
const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;

export type IamAction = "GetRole" | "ListRolePolicies" | "GetRolePolicy" | "PutRolePolicy" | "DeleteRolePolicy";
const ACTIONS: readonly IamAction[] = [
  "GetRole",
  "ListRolePolicies",
  "GetRolePolicy",
  "PutRolePolicy",
  "DeleteRolePolicy",
];

export interface IamPrincipal {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** The account the key belongs to: every role name it sends is looked up there. */
  account: string;
  /** IAM actions its identity policy allows; default all of them. Others answer AccessDenied. */
  allowedActions?: readonly IamAction[];
}

export interface FakeIamOptions {
  now: () => number;
  principals: IamPrincipal[];
  /** Roles that exist: their ARNs (account, path and name), MaxSessionDuration 3600. */
  roles?: readonly string[];
  /** Keys not in `principals`, resolved on demand (the sandbox derives them from the account: test/sandbox/iam.ts). */
  resolvePrincipal?: (accessKeyId: string) => IamPrincipal | undefined;
  /** Sandbox: a role name the caller's account does not have yet is created (path `/`) when first named. */
  rolesOnDemand?: boolean;
}

export type IamFault = "throttle" | "service_failure";

export interface FakeIam {
  handler(request: Request): Promise<Response>;
  /** The inline policies of a role, name -> document (decoded). Empty for an unknown role. */
  inlinePolicies(roleArn: string): ReadonlyMap<string, string>;
  /** Embeds a policy directly (as an administrator did before), bypassing the API and its checks. */
  putInlinePolicy(roleArn: string, policyName: string, document: string): void;
  /** Queue faults answered before normal processing, one per request, FIFO. */
  inject(fault: IamFault, times?: number): void;
  /** Every request that reached the handler: action, and the caller's account once authenticated. */
  readonly requests: Array<{ action: string; account: string | undefined; roleName: string | undefined }>;
}

interface Role {
  arn: string;
  path: string;
  name: string;
  roleId: string;
  createdMs: number;
  policies: Map<string, string>;
}

function randomRoleId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return `AROA${[...crypto.getRandomValues(new Uint8Array(17))].map((byte) => alphabet[byte % 32]).join("")}`;
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

export function createFakeIam(options: FakeIamOptions): FakeIam {
  /** account -> lower-cased role name -> role: IAM role names are unique per account, whatever their case. */
  const accounts = new Map<string, Map<string, Role>>();
  const faults: IamFault[] = [];
  const requests: FakeIam["requests"] = [];
  const principals = new Map(options.principals.map((principal) => [principal.accessKeyId, principal]));

  function addRole(arn: string): Role {
    const match = ROLE_ARN.exec(arn);
    if (match === null) throw new Error(`fake IAM: not a role ARN: ${arn}`);
    const [, account = "", path = "", name = ""] = match;
    let roles = accounts.get(account);
    if (roles === undefined) {
      roles = new Map();
      accounts.set(account, roles);
    }
    const existing = roles.get(name.toLowerCase());
    if (existing !== undefined) return existing;
    const role: Role = {
      arn,
      path: `/${path}`,
      name,
      roleId: randomRoleId(),
      createdMs: options.now(),
      policies: new Map(),
    };
    roles.set(name.toLowerCase(), role);
    return role;
  }
  for (const arn of options.roles ?? []) addRole(arn);

  const principalFor = (accessKeyId: string) => principals.get(accessKeyId) ?? options.resolvePrincipal?.(accessKeyId);

  function roleFor(principal: IamPrincipal, roleName: string): Role {
    const role = accounts.get(principal.account)?.get(roleName.toLowerCase());
    if (role !== undefined) return role;
    if (options.rolesOnDemand === true) return addRole(`arn:aws:iam::${principal.account}:role/${roleName}`);
    throw new AwsError(404, "NoSuchEntity", `The role with name ${roleName} cannot be found.`);
  }

  function ok(action: IamAction, result: string): Response {
    const requestId = crypto.randomUUID();
    const inner = result === "" ? "" : `<${action}Result>${result}</${action}Result>`;
    return xmlResponse(
      200,
      requestId,
      `<${action}Response xmlns="${IAM_XML_NAMESPACE}">${inner}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
    );
  }

  function run(action: IamAction, params: Map<string, string>, principal: IamPrincipal): Response {
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
    const role = roleFor(principal, roleName as string);
    if (action === "GetRole") {
      return ok(
        action,
        `<Role><Path>${xmlEscape(role.path)}</Path><RoleName>${xmlEscape(role.name)}</RoleName><RoleId>${role.roleId}</RoleId><Arn>${xmlEscape(role.arn)}</Arn>` +
          `<CreateDate>${isoSeconds(role.createdMs)}</CreateDate><AssumeRolePolicyDocument>${rfc3986('{"Version":"2012-10-17","Statement":[]}')}</AssumeRolePolicyDocument>` +
          `<MaxSessionDuration>3600</MaxSessionDuration></Role>`,
      );
    }
    if (action === "ListRolePolicies") {
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
        action,
        `<PolicyNames>${page.map((name) => `<member>${xmlEscape(name)}</member>`).join("")}</PolicyNames><IsTruncated>${truncated}</IsTruncated>` +
          (truncated ? `<Marker>${btoa(String(start + maxItems))}</Marker>` : ""),
      );
    }
    const policyName = params.get("PolicyName");
    const nameProblem = validation(policyName, "policyName", POLICY_NAME, "[\\w+=,.@-]+");
    if (nameProblem !== undefined) throw nameProblem;
    const name = policyName as string;
    if (action === "GetRolePolicy" || action === "DeleteRolePolicy") {
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
    // PutRolePolicy: parameter constraints, then the grammar, then the role's aggregate size.
    const document = params.get("PolicyDocument");
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
    return ok(action, "");
  }

  async function answer(request: Request): Promise<Response> {
    if (request.method !== "GET" && request.method !== "POST")
      throw new AwsError(405, "InvalidHttpRequest", "IAM accepts GET and POST requests only.");
    const url = new URL(request.url);
    const { params, body } = await readQueryParams(request, url);
    const action = params.get("Action");
    const entry: FakeIam["requests"][number] = {
      action: action ?? "",
      account: undefined,
      roleName: params.get("RoleName"),
    };
    requests.push(entry);
    const accessKeyId = await verifySigV4(request, url, body, {
      service: "iam",
      region: IAM_SIGNING_REGION,
      nowMs: options.now(),
      lookupKey: (id) => {
        const principal = principalFor(id);
        return principal === undefined
          ? undefined
          : {
              secretAccessKey: principal.secretAccessKey,
              sessionToken: principal.sessionToken,
              expiresAtMs: undefined,
            };
      },
    });
    const principal = principalFor(accessKeyId) as IamPrincipal;
    entry.account = principal.account;
    if (action === undefined || action === "") throw new AwsError(400, "MissingAction", "Missing Action");
    if (!(ACTIONS as readonly string[]).includes(action))
      throw new AwsError(
        400,
        "InvalidAction",
        `Could not find operation ${action} for version ${params.get("Version") ?? "NO_VERSION_SPECIFIED"}`,
      );
    if (params.get("Version") !== IAM_API_VERSION)
      throw new AwsError(
        400,
        "InvalidAction",
        `Could not find operation ${action} for version ${params.get("Version") ?? "NO_VERSION_SPECIFIED"}`,
      );
    return run(action as IamAction, params, principal);
  }

  return {
    async handler(request) {
      const fault = faults.shift();
      if (fault === "throttle")
        return errorResponse(
          { status: 400, type: "Sender", code: "Throttling", message: "Rate exceeded" },
          IAM_XML_NAMESPACE,
        );
      if (fault === "service_failure")
        return errorResponse(
          { status: 500, type: "Receiver", code: "ServiceFailure", message: "An internal error has occurred." },
          IAM_XML_NAMESPACE,
        );
      try {
        return await answer(request);
      } catch (error) {
        if (error instanceof AwsError) return errorResponse(error.shape, IAM_XML_NAMESPACE);
        throw error;
      }
    },
    inlinePolicies(roleArn) {
      const match = ROLE_ARN.exec(roleArn);
      return accounts.get(match?.[1] ?? "")?.get((match?.[3] ?? "").toLowerCase())?.policies ?? new Map();
    },
    putInlinePolicy(roleArn, policyName, document) {
      addRole(roleArn).policies.set(policyName, document);
    },
    inject(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    requests,
  };
}
