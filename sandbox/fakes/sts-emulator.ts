// An in-process fake of AWS STS (AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity) that enforces AWS's own
// rules: SigV4 as verified by AWS's signer (./aws-sigv4.ts), the AssumeRole parameter rules
// (./sts-assume-role-params.ts), and AWS's XML shapes. This file: the public API, request routing and the answers;
// keys in ./sts-identities.ts, injected faults in ./sts-faults.ts.
// Platform-neutral (workerd and Node 24): WebCrypto and Request/Response only; time comes from `now`.
// References: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html,
// https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html.
import type { ChecksumConstructor } from "@smithy/types";
import { AwsError, isoSeconds, readQueryParams, xmlEscape } from "./aws-query-protocol.ts";
import { verifySigV4 } from "./aws-sigv4.ts";
import { parseAssumeRole } from "./sts-assume-role-params.ts";
import { assumeRoleAnswer, errorResponse, getCallerIdentity } from "./sts-answers.ts";
import { faultAnswer, type StsFault } from "./sts-faults.ts";
import { type Caller, createKeyStore, type StsKeyStore, type StsPrincipal } from "./sts-identities.ts";
import { validationError } from "./sts-member-constraints.ts";
import {
  verifyWebIdentityToken,
  webIdentityParams,
  WebIdentityRejection,
  type VerifiedWebIdentity,
  type WebIdentityEmulatorOptions,
} from "./sts-web-identity.ts";

export { DEFAULT_PRINCIPAL_ARN, type StsPrincipal } from "./sts-identities.ts";
export type { StsFault } from "./sts-faults.ts";

export interface StsEmulatorOptions {
  /** Injected clock, ms since epoch. */
  now: () => number;
  /** Long-term callers (the broker's IAM user). */
  principals: StsPrincipal[];
  /**
   * The region of the endpoint when the handler is not told one: the SigV4 scope region requests must be signed for.
   * Default "us-east-1" (the global endpoint's signing region).
   */
  region?: string;
  /** The role's MaxSessionDuration; DurationSeconds above it answers ValidationError. Default 3600 (AWS default). */
  roleMaxSessionSeconds?: number;
  /** If set, issued credentials expire after this many seconds whatever DurationSeconds says (sandbox). */
  credentialLifetimeSeconds?: number;
  /**
   * The SHA-256/HMAC primitive AWS's signer verifies with. Default: @aws-crypto/sha256-js (pure JS). The bench and
   * the sandbox pass `WebCryptoSha256` (./webcrypto-sha256.ts): same signer, same checks, native hashing.
   */
  sha256?: ChecksumConstructor;
  /** IAM OIDC providers trusted for AssumeRoleWithWebIdentity (./sts-web-identity.ts); none: every token is refused. */
  webIdentity?: WebIdentityEmulatorOptions;
}

export interface AssumeRoleCall {
  /** Which action issued the credentials. */
  action: "AssumeRole" | "AssumeRoleWithWebIdentity";
  /** AssumeRoleWithWebIdentity: what AWS read from the token, and whether the request carried a SigV4 header. */
  webIdentity?: VerifiedWebIdentity & { signed: boolean };
  /** Every request parameter as sent (Action and Version included). */
  params: Record<string, string>;
  roleArn: string;
  roleSessionName: string;
  /** DurationSeconds as requested, or AWS's default of 3600. */
  durationSeconds: number;
  sourceIdentity?: string;
  tags: Array<{ key: string; value: string }>;
  transitiveTagKeys: string[];
  policy?: string;
  policyArns: string[];
  externalId?: string;
  /** The caller's access key id (principal or previously issued credentials). */
  accessKeyId: string;
  /** The access key id of the credentials this call issued. */
  issuedAccessKeyId: string;
  /** Expiration of the issued credentials, as sent in the XML. */
  expiration: string;
  /** When the credentials were issued: the session's `aws:TokenIssueTime` in IAM policy conditions. */
  issuedAtMs: number;
}

export interface StsEmulator {
  /**
   * Answers one request. `endpointRegion` is the region of the endpoint it was sent to (`sts.<region>.amazonaws.com`):
   * as on AWS, the request must be signed for that region. Default: the `region` option.
   */
  handler: (request: Request, endpointRegion?: string) => Promise<Response>;
  /** Queue faults answered before normal processing, one per request, FIFO. */
  inject(fault: StsFault, times?: number): void;
  /** Every role ARN in this set answers AccessDenied (as a trust policy that refuses the caller would). */
  denyRole(roleArn: string): void;
  /** Successful AssumeRole calls, in order. */
  readonly assumeRoleCalls: AssumeRoleCall[];
  /** Every request that reached the handler (including rejected ones), for counting attempts. */
  readonly requestCount: number;
}

/** An AWS region name: us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-7. */
export function isAwsRegionName(text: string): boolean {
  return /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(text);
}

/** Re-exported for the emulator's users: the escape its XML answers use, and their namespace. */
export { xmlEscape };
export { STS_XML_NAMESPACE } from "./sts-answers.ts";

/** The only STS API version (query protocol). */
const STS_API_VERSION = "2011-06-15";
/** IAM's default MaxSessionDuration of a role. */
const DEFAULT_ROLE_MAX_SESSION_SECONDS = 3_600;

/** The emulator's state, shared by the request handlers below. */
interface Emulator {
  options: StsEmulatorOptions;
  region: string;
  roleMaxSessionSeconds: number;
  faults: StsFault[];
  deniedRoles: Set<string>;
  assumeRoleCalls: AssumeRoleCall[];
  keys: StsKeyStore;
}

/** Verifies the SigV4 Authorization header the way STS does (./aws-sigv4.ts); returns the caller. */
async function authenticate(sts: Emulator, request: Request, url: URL, body: string, region: string): Promise<Caller> {
  const accessKeyId = await verifySigV4(request, url, body, {
    service: "sts",
    region,
    nowMs: sts.options.now(),
    lookupKey: sts.keys.lookupKey,
    ...(sts.options.sha256 === undefined ? {} : { sha256: sts.options.sha256 }),
  });
  return (sts.keys.lookupKey(accessKeyId) as NonNullable<ReturnType<StsKeyStore["lookupKey"]>>).caller;
}

function assumeRole(
  sts: Emulator,
  params: Map<string, string>,
  caller: Caller,
  webIdentity?: AssumeRoleCall["webIdentity"],
): Response {
  const action = webIdentity === undefined ? "AssumeRole" : "AssumeRoleWithWebIdentity";
  const input = parseAssumeRole(
    webIdentity === undefined ? params : webIdentityParams(params, webIdentity),
    caller.isRoleSession,
  );
  if (sts.deniedRoles.has(input.roleArn)) {
    throw new AwsError(
      403,
      "AccessDenied",
      webIdentity === undefined
        ? `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.roleArn}`
        : "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    );
  }
  if (input.durationSeconds > sts.roleMaxSessionSeconds) {
    throw validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
  }
  const nowMs = sts.options.now();
  const lifetimeSeconds = sts.options.credentialLifetimeSeconds ?? input.durationSeconds;
  // Whole seconds, so the XML Expiration and the expiry we enforce are the same instant.
  const expiresAtMs = Math.floor((nowMs + lifetimeSeconds * 1000) / 1000) * 1000;
  const expiration = isoSeconds(expiresAtMs);
  const session = sts.keys.issue(input, expiresAtMs);
  sts.assumeRoleCalls.push({
    action,
    ...(webIdentity === undefined ? {} : { webIdentity }),
    params: Object.fromEntries(params),
    roleArn: input.roleArn,
    roleSessionName: input.roleSessionName,
    durationSeconds: input.durationSeconds,
    ...(input.sourceIdentity === undefined ? {} : { sourceIdentity: input.sourceIdentity }),
    tags: input.tags,
    transitiveTagKeys: input.transitiveTagKeys,
    ...(input.policy === undefined ? {} : { policy: input.policy }),
    policyArns: input.policyArns,
    ...(input.externalId === undefined ? {} : { externalId: input.externalId }),
    accessKeyId: caller.accessKeyId,
    issuedAccessKeyId: session.accessKeyId,
    expiration,
    issuedAtMs: nowMs,
  });
  return assumeRoleAnswer(action, input, session, expiration, webIdentity);
}

async function assumeRoleWithWebIdentity(
  sts: Emulator,
  request: Request,
  params: Map<string, string>,
): Promise<Response> {
  let verified: VerifiedWebIdentity;
  try {
    verified = await verifyWebIdentityToken(params.get("WebIdentityToken"), sts.options.webIdentity, sts.options.now());
  } catch (error) {
    if (error instanceof WebIdentityRejection) throw new AwsError(error.status, error.code, error.message);
    throw error;
  }
  // The web identity session's caller: nobody signed; the ARN is what AWS names in CloudTrail for the provider.
  const caller: Caller = {
    accessKeyId: "",
    arn: `arn:aws:iam::000000000000:oidc-provider/${verified.provider}`,
    userId: verified.subject,
    account: "000000000000",
    isRoleSession: false,
  };
  return assumeRole(sts, params, caller, { ...verified, signed: request.headers.has("authorization") });
}

async function processRequest(sts: Emulator, request: Request, region: string): Promise<Response> {
  if (request.method !== "GET" && request.method !== "POST") {
    throw new AwsError(405, "InvalidHttpRequest", "STS accepts GET and POST requests only.");
  }
  const url = new URL(request.url);
  const { params, body } = await readQueryParams(request, url);
  // AssumeRoleWithWebIdentity needs no AWS credentials: the token is the authentication (API reference).
  if (params.get("Action") === "AssumeRoleWithWebIdentity" && params.get("Version") === STS_API_VERSION)
    return assumeRoleWithWebIdentity(sts, request, params);
  const caller = await authenticate(sts, request, url, body, region);

  const action = params.get("Action");
  const version = params.get("Version");
  if (action === undefined || action === "") throw new AwsError(400, "MissingAction", "Missing Action");
  if (action !== "AssumeRole" && action !== "GetCallerIdentity") {
    throw new AwsError(
      400,
      "InvalidAction",
      `Could not find operation ${action} for version ${version ?? "NO_VERSION_SPECIFIED"}`,
    );
  }
  if (version === undefined || version === "")
    throw new AwsError(400, "MissingParameter", "The request must contain the parameter Version");
  if (version !== STS_API_VERSION)
    throw new AwsError(400, "InvalidAction", `Could not find operation ${action} for version ${version}`);

  return action === "AssumeRole" ? assumeRole(sts, params, caller) : getCallerIdentity(caller);
}

export function createStsEmulator(options: StsEmulatorOptions): StsEmulator {
  const sts: Emulator = {
    options,
    region: options.region ?? "us-east-1",
    roleMaxSessionSeconds: options.roleMaxSessionSeconds ?? DEFAULT_ROLE_MAX_SESSION_SECONDS,
    faults: [],
    deniedRoles: new Set<string>(),
    assumeRoleCalls: [],
    keys: createKeyStore(options.principals),
  };
  let requestCount = 0;
  const callerArnOf = (accessKeyId: string) => sts.keys.lookupKey(accessKeyId)?.caller.arn;
  return {
    async handler(request, endpointRegion = sts.region) {
      requestCount++;
      const fault = sts.faults.shift();
      if (fault !== undefined) return errorResponse(await faultAnswer(fault, request, callerArnOf));
      try {
        return await processRequest(sts, request, endpointRegion);
      } catch (error) {
        if (error instanceof AwsError) return errorResponse(error.shape);
        throw error;
      }
    },
    inject(fault, times = 1) {
      for (let i = 0; i < times; i++) sts.faults.push(fault);
    },
    denyRole(roleArn) {
      sts.deniedRoles.add(roleArn);
    },
    assumeRoleCalls: sts.assumeRoleCalls,
    get requestCount() {
      return requestCount;
    },
  };
}
