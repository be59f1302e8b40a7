// An in-process fake of AWS IAM's Query API, the part `npm run revoke` uses: GetRole, ListRolePolicies, GetRolePolicy,
// PutRolePolicy, DeleteRolePolicy. It follows AWS's documentation: SigV4 verified as STS verifies it (service `iam`,
// region us-east-1, ./aws-sigv4.ts), roles live in the account of the caller's key (IAM takes a role *name*),
// AWS's parameter rules, the 10,240-character aggregate of a role's inline policies (white space not counted), a
// policy grammar check (MalformedPolicyDocument), policy documents answered URL-encoded (RFC 3986), and errors as
// `<ErrorResponse>`: NoSuchEntity 404, LimitExceeded 409, MalformedPolicyDocument 400, AccessDenied 403.
// Limits are declared here, not imported from src/: the fake stands in for AWS, not for what the CLI believes.
// This file: accounts and their roles, authentication, routing and faults; the actions are ./iam-role-actions.ts.
// References: https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html (and GetRole,
// ListRolePolicies, GetRolePolicy, DeleteRolePolicy), https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html.
import { AwsError, errorResponse, readQueryParams } from "./aws-query-protocol.ts";
import { verifySigV4 } from "./aws-sigv4.ts";
import { IAM_XML_NAMESPACE, type IamAction, type IamPrincipal, type Role, runRoleAction } from "./iam-role-actions.ts";

export { countedPolicyChars, IAM_XML_NAMESPACE, type IamAction, type IamPrincipal } from "./iam-role-actions.ts";

const IAM_API_VERSION = "2010-05-08";
/** IAM is global; its endpoint signs for us-east-1 (aws partition). */
const IAM_SIGNING_REGION = "us-east-1";
const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;

const ACTIONS: readonly IamAction[] = [
  "GetRole",
  "ListRolePolicies",
  "GetRolePolicy",
  "PutRolePolicy",
  "DeleteRolePolicy",
];

export interface FakeIamOptions {
  now: () => number;
  principals: IamPrincipal[];
  /** Roles that exist: their ARNs (account, path and name), MaxSessionDuration 3600. */
  roles?: readonly string[];
  /** Keys not in `principals`, resolved on demand (the sandbox derives them from the account: sandbox/iam.ts). */
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

function randomRoleId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return `AROA${[...crypto.getRandomValues(new Uint8Array(17))].map((byte) => alphabet[byte % 32]).join("")}`;
}

/** The request's action, once IAM knows it for this API version. */
function actionOf(params: Map<string, string>): IamAction {
  const action = params.get("Action");
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
  return action as IamAction;
}

/** An injected fault's answer. */
function faultResponse(fault: IamFault): Response {
  return fault === "throttle"
    ? errorResponse({ status: 400, type: "Sender", code: "Throttling", message: "Rate exceeded" }, IAM_XML_NAMESPACE)
    : errorResponse(
        { status: 500, type: "Receiver", code: "ServiceFailure", message: "An internal error has occurred." },
        IAM_XML_NAMESPACE,
      );
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
    return runRoleAction(actionOf(params), params, principal, (roleName) => roleFor(principal, roleName));
  }

  return {
    async handler(request) {
      const fault = faults.shift();
      if (fault !== undefined) return faultResponse(fault);
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
