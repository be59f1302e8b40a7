// An in-process fake of AWS STS (AssumeRole, GetCallerIdentity) that enforces AWS's own rules: SigV4 as
// verified by AWS's signer (@smithy/signature-v4), the AssumeRole parameter limits, and AWS's XML shapes.
// Platform-neutral (workerd and Node 24): WebCrypto and Request/Response only; time comes from `now`.
//
// The limits below are declared here, not imported from src/aws/constants.ts, on purpose: the emulator stands in
// for AWS and must stay independent of what the broker believes AWS allows.
// References: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html,
// https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html.
import type { ChecksumConstructor } from "@smithy/types";
import {
  AwsError,
  errorResponse as awsErrorResponse,
  isoSeconds,
  readQueryParams,
  verifySigV4,
  xmlEscape,
  xmlResponse,
} from "./aws-query-protocol.ts";
import {
  verifyWebIdentityToken,
  webIdentityParams,
  WebIdentityRejection,
  type VerifiedWebIdentity,
  type WebIdentityEmulatorOptions,
} from "./sts-web-identity.ts";

// --- Public API -------------------------------------------------------------------------------

export interface StsPrincipal {
  accessKeyId: string;
  secretAccessKey: string;
  /** Set when the principal itself holds temporary credentials: requests must carry it. */
  sessionToken?: string;
  /** Defaults to DEFAULT_PRINCIPAL_ARN. */
  arn?: string;
}

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

export type StsFault = "throttle" | "internal_error" | "service_unavailable" | "access_denied" | "hang";

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

/** Re-exported for the emulator's users: the escape its XML answers use. */
export { xmlEscape };

/** An AWS region name: us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-7. */
export function isAwsRegionName(text: string): boolean {
  return /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(text);
}

/** ARN of a principal that does not name one. */
export const DEFAULT_PRINCIPAL_ARN = "arn:aws:iam::000000000000:user/broker";

/** The XML namespace of every STS query-protocol response. */
export const STS_XML_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";

// --- AWS's rules ------------------------------------------------------------------------------

/** The only STS API version (query protocol). */
const STS_API_VERSION = "2011-06-15";
/** AssumeRole DurationSeconds bounds and default. */
const MIN_DURATION_SECONDS = 900;
const MAX_DURATION_SECONDS = 43_200;
const DEFAULT_DURATION_SECONDS = 3_600;
/** IAM's default MaxSessionDuration of a role. */
const DEFAULT_ROLE_MAX_SESSION_SECONDS = 3_600;
/** Role chaining caps a session at one hour whatever the role allows. */
const ROLE_CHAINING_MAX_SECONDS = 3_600;
/** RoleArn / PolicyArns.member.N.arn length bounds. */
const MIN_ARN_CHARS = 20;
const MAX_ARN_CHARS = 2_048;
/** RoleSessionName and SourceIdentity length bounds. */
const MIN_NAME_CHARS = 2;
const MAX_NAME_CHARS = 64;
/** ExternalId length bounds. */
const MIN_EXTERNAL_ID_CHARS = 2;
const MAX_EXTERNAL_ID_CHARS = 1_224;
/** Inline session policy plaintext limit. */
const MAX_POLICY_CHARS = 2_048;
/** Managed session policies per call. */
const MAX_POLICY_ARNS = 10;
/** Session tags per call, and transitive tag keys per call. */
const MAX_TAGS = 50;
const MAX_TAG_KEY_CHARS = 128;
const MAX_TAG_VALUE_CHARS = 256;
/**
 * AWS packs policy, managed policy ARNs and tags into a binary format with its own undocumented limit
 * (PackedPolicySize is a percentage of it). We estimate: minified policy + ARN + tag key/value characters
 * against this budget. AWS's own example (a ~115-char policy plus two short tags) reports 6-8 %; this gives
 * about 4 %. A 2048-char policy alone fits (50 %); large tag sets overflow it, as they can on AWS.
 */
const PACKED_BUDGET_CHARS = 4_096;
/** The `hang` fault never outlives this, even when the request has no signal that aborts. */
const HANG_CAP_MS = 30_000;
/** Random bytes in an issued session token; real ones are 600-1200 base64 characters. */
const SESSION_TOKEN_RANDOM_BYTES = 480;

const ROLE_ARN_PATTERN = /^arn:(aws[\w-]*):iam::(\d{12}):role\/([\w+=,.@/-]{1,512})$/;
const POLICY_ARN_PATTERN = /^arn:aws[\w-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]{1,512}$/;
const NAME_PATTERN = /^[\w+=,.@-]*$/;
const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]*$/;
const TAG_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** Policy plaintext may hold tab, LF, CR and U+0020-U+00FF only. */
const POLICY_CHARS_PATTERN = /^[\u0009\u000A\u000D\u0020-\u00FF]*$/;

// --- Errors -----------------------------------------------------------------------------------

/** Thrown inside the emulator; the handler renders it as AWS's ErrorResponse. */
const StsError = AwsError;

const validationError = (message: string) => new StsError(400, "ValidationError", message);

// --- Small helpers ----------------------------------------------------------------------------

/** Length in Unicode code points, as AWS counts characters. */
function chars(value: string): number {
  return [...value].length;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** `length` characters drawn uniformly from `alphabet` (32 or 64 symbols: both divide 256, so no bias). */
function randomString(alphabet: string, length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

function randomBase64(byteCount: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(byteCount));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Account id (5th field) of an ARN. */
function accountOf(arn: string): string {
  return arn.split(":")[4] ?? "000000000000";
}

function errorResponse(error: AwsError["shape"]): Response {
  return awsErrorResponse(error, STS_XML_NAMESPACE);
}

/** Lets Node exit while a capped `hang` is pending (the sandbox, the benchmark); a no-op in workerd. */
function unrefTimer(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer && typeof timer.unref === "function")
    timer.unref();
}

/** Waits for the request's signal, then rejects with its reason: a request STS never answers. */
function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      reject(new Error(`sts emulator: hang fault released after ${HANG_CAP_MS} ms without an abort`));
    }, HANG_CAP_MS);
    unrefTimer(timer);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

// --- Identities -------------------------------------------------------------------------------

/** Who signed a request. */
interface Caller {
  accessKeyId: string;
  arn: string;
  userId: string;
  account: string;
  /** True when the caller holds role credentials, so an AssumeRole is role chaining. */
  isRoleSession: boolean;
}

interface IssuedCredentials {
  secretAccessKey: string;
  sessionToken: string;
  expiresAtMs: number;
  arn: string;
  assumedRoleId: string;
}

/** One known access key: a configured principal or credentials this emulator issued. */
interface KeyRecord {
  secretAccessKey: string;
  sessionToken: string | undefined;
  expiresAtMs: number | undefined;
  caller: Caller;
}

// --- AssumeRole parameters --------------------------------------------------------------------

interface AssumeRoleInput {
  roleArn: string;
  roleName: string;
  account: string;
  partition: string;
  roleSessionName: string;
  durationSeconds: number;
  durationGiven: boolean;
  sourceIdentity: string | undefined;
  tags: Array<{ key: string; value: string }>;
  transitiveTagKeys: string[];
  policy: string | undefined;
  policyArns: string[];
  externalId: string | undefined;
  packedPolicyPercent: number | undefined;
}

/** Values of `Prefix.member.N[suffix]`, ordered by N, as the query protocol serialises lists. */
function listMembers(
  params: Map<string, string>,
  prefix: string,
  suffix: string,
): Array<{ index: number; value: string }> {
  const out: Array<{ index: number; value: string }> = [];
  const pattern = new RegExp(`^${prefix.replace(/\./g, "\\.")}\\.member\\.(\\d+)${suffix.replace(/\./g, "\\.")}$`);
  for (const [name, value] of params) {
    const m = pattern.exec(name);
    if (m !== null) out.push({ index: Number(m[1]), value });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** One "Value 'x' at 'field' failed to satisfy constraint: Member must ..." clause, AWS's wording. */
function constraint(value: string | null, field: string, rule: string): string {
  return `Value ${value === null ? "null" : `'${value}'`} at '${field}' failed to satisfy constraint: Member must ${rule}`;
}

function checkString(
  problems: string[],
  value: string | undefined,
  field: string,
  rules: { required?: boolean; min?: number; max?: number; pattern?: RegExp; patternText?: string },
): void {
  if (value === undefined) {
    if (rules.required === true) problems.push(constraint(null, field, "not be null"));
    return;
  }
  const length = chars(value);
  if (rules.min !== undefined && length < rules.min)
    problems.push(constraint(value, field, `have length greater than or equal to ${rules.min}`));
  if (rules.max !== undefined && length > rules.max)
    problems.push(constraint(value, field, `have length less than or equal to ${rules.max}`));
  if (rules.pattern !== undefined && !rules.pattern.test(value)) {
    problems.push(
      constraint(value, field, `satisfy regular expression pattern: ${rules.patternText ?? rules.pattern.source}`),
    );
  }
}

/** Validates AssumeRole's parameters in AWS's order: member constraints together, then the semantic rules. */
function parseAssumeRole(params: Map<string, string>, isRoleSession: boolean): AssumeRoleInput {
  const problems: string[] = [];
  const roleArn = params.get("RoleArn");
  const roleSessionName = params.get("RoleSessionName");
  const sourceIdentity = params.get("SourceIdentity");
  const externalId = params.get("ExternalId");
  const policy = params.get("Policy");
  const durationText = params.get("DurationSeconds");

  checkString(problems, roleArn, "roleArn", { required: true, min: MIN_ARN_CHARS, max: MAX_ARN_CHARS });
  checkString(problems, roleSessionName, "roleSessionName", {
    required: true,
    min: MIN_NAME_CHARS,
    max: MAX_NAME_CHARS,
    pattern: NAME_PATTERN,
    patternText: "[\\w+=,.@-]*",
  });
  let durationSeconds = DEFAULT_DURATION_SECONDS;
  if (durationText !== undefined) {
    if (!/^-?\d{1,10}$/.test(durationText)) {
      problems.push(constraint(durationText, "durationSeconds", "be an integer"));
    } else {
      durationSeconds = Number(durationText);
      if (durationSeconds < MIN_DURATION_SECONDS) {
        problems.push(
          constraint(durationText, "durationSeconds", `have value greater than or equal to ${MIN_DURATION_SECONDS}`),
        );
      }
      if (durationSeconds > MAX_DURATION_SECONDS) {
        problems.push(
          constraint(durationText, "durationSeconds", `have value less than or equal to ${MAX_DURATION_SECONDS}`),
        );
      }
    }
  }
  checkString(problems, sourceIdentity, "sourceIdentity", {
    min: MIN_NAME_CHARS,
    max: MAX_NAME_CHARS,
    pattern: NAME_PATTERN,
    patternText: "[\\w+=,.@-]*",
  });
  checkString(problems, externalId, "externalId", {
    min: MIN_EXTERNAL_ID_CHARS,
    max: MAX_EXTERNAL_ID_CHARS,
    pattern: EXTERNAL_ID_PATTERN,
    patternText: "[\\w+=,.@:\\/-]*",
  });
  // The 2048 maximum is checked below: AWS reports it as PackedPolicyTooLarge, not as a member constraint.
  checkString(problems, policy, "policy", {
    min: 1,
    pattern: POLICY_CHARS_PATTERN,
    patternText: "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
  });

  const policyArnMembers = listMembers(params, "PolicyArns", ".arn");
  if (policyArnMembers.length > MAX_POLICY_ARNS) {
    problems.push(
      constraint(
        `[${policyArnMembers.map((m) => m.value).join(", ")}]`,
        "policyArns",
        `have length less than or equal to ${MAX_POLICY_ARNS}`,
      ),
    );
  }
  policyArnMembers.forEach((member, i) => {
    checkString(problems, member.value, `policyArns.${i + 1}.member.arn`, { min: MIN_ARN_CHARS, max: MAX_ARN_CHARS });
  });

  // Tags: pair Key and Value by member index; a member missing either half is a null member.
  const tagIndexes = [
    ...new Set([...listMembers(params, "Tags", ".Key"), ...listMembers(params, "Tags", ".Value")].map((m) => m.index)),
  ].sort((a, b) => a - b);
  if (tagIndexes.length > MAX_TAGS) {
    problems.push(constraint(`[${tagIndexes.length} tags]`, "tags", `have length less than or equal to ${MAX_TAGS}`));
  }
  const tags: Array<{ key: string; value: string }> = [];
  tagIndexes.forEach((index, i) => {
    const key = params.get(`Tags.member.${index}.Key`);
    const value = params.get(`Tags.member.${index}.Value`);
    const field = `tags.${i + 1}.member`;
    checkString(problems, key, `${field}.key`, {
      required: true,
      min: 1,
      max: MAX_TAG_KEY_CHARS,
      pattern: TAG_PATTERN,
      patternText: "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
    });
    checkString(problems, value, `${field}.value`, {
      required: true,
      max: MAX_TAG_VALUE_CHARS,
      pattern: TAG_PATTERN,
      patternText: "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
    });
    tags.push({ key: key ?? "", value: value ?? "" });
  });

  const transitiveTagKeys = listMembers(params, "TransitiveTagKeys", "").map((m) => m.value);
  if (transitiveTagKeys.length > MAX_TAGS) {
    problems.push(
      constraint(
        `[${transitiveTagKeys.join(", ")}]`,
        "transitiveTagKeys",
        `have length less than or equal to ${MAX_TAGS}`,
      ),
    );
  }
  transitiveTagKeys.forEach((key, i) => {
    checkString(problems, key, `transitiveTagKeys.${i + 1}.member`, {
      min: 1,
      max: MAX_TAG_KEY_CHARS,
      pattern: TAG_PATTERN,
      patternText: "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
    });
  });

  if (problems.length > 0) {
    throw validationError(
      `${problems.length} validation error${problems.length > 1 ? "s" : ""} detected: ${problems.join("; ")}`,
    );
  }

  // Semantic rules, each its own error (members above are known present and well-formed from here).
  const arnMatch = ROLE_ARN_PATTERN.exec(roleArn ?? "");
  if (arnMatch === null) throw validationError(`${roleArn} is invalid`);
  const [, partition = "aws", account = "", rolePath = ""] = arnMatch;
  const roleName = rolePath.slice(rolePath.lastIndexOf("/") + 1);
  if (roleName === "") throw validationError(`${roleArn} is invalid`);
  for (const member of policyArnMembers) {
    if (!POLICY_ARN_PATTERN.test(member.value)) throw validationError(`${member.value} is invalid`);
  }
  if (sourceIdentity?.toLowerCase().startsWith("aws:")) {
    throw validationError("SourceIdentity cannot begin with the reserved prefix 'aws:'.");
  }
  const seenKeys = new Set<string>();
  for (const tag of tags) {
    if (tag.key.toLowerCase().startsWith("aws:"))
      throw validationError("Tag keys cannot begin with the reserved prefix 'aws:'.");
    const folded = tag.key.toLowerCase();
    if (seenKeys.has(folded))
      throw validationError("Duplicate tag keys found. Please note that Tag keys are case insensitive.");
    seenKeys.add(folded);
  }
  for (const key of transitiveTagKeys) {
    if (!seenKeys.has(key.toLowerCase()))
      throw validationError("The specified transitive tag key must be included in the requested tags.");
  }
  if (isRoleSession && durationSeconds > ROLE_CHAINING_MAX_SECONDS) {
    throw validationError(
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    );
  }

  let minifiedPolicyChars = 0;
  if (policy !== undefined) {
    if (chars(policy) > MAX_POLICY_CHARS) {
      throw new StsError(
        400,
        "PackedPolicyTooLarge",
        `Session policy plaintext exceeds ${MAX_POLICY_CHARS} characters.`,
      );
    }
    let document: unknown;
    try {
      document = JSON.parse(policy);
    } catch {
      throw new StsError(400, "MalformedPolicyDocument", "The policy is not in the valid JSON format.");
    }
    if (typeof document !== "object" || document === null || Array.isArray(document)) {
      throw new StsError(400, "MalformedPolicyDocument", "Syntax errors in policy.");
    }
    minifiedPolicyChars = chars(JSON.stringify(document));
  }
  const policyArns = policyArnMembers.map((m) => m.value);
  let packedPolicyPercent: number | undefined;
  if (policy !== undefined || policyArns.length > 0 || tags.length > 0) {
    const units =
      minifiedPolicyChars +
      policyArns.reduce((sum, arn) => sum + chars(arn), 0) +
      tags.reduce((sum, t) => sum + chars(t.key) + chars(t.value), 0);
    packedPolicyPercent = Math.max(1, Math.ceil((100 * units) / PACKED_BUDGET_CHARS));
    if (packedPolicyPercent > 100) {
      throw new StsError(
        400,
        "PackedPolicyTooLarge",
        `Packed size of session policy and session tags consumes ${packedPolicyPercent}% of allotted space, please use smaller policy or tags.`,
      );
    }
  }

  return {
    roleArn: roleArn ?? "",
    roleName,
    account,
    partition,
    roleSessionName: roleSessionName ?? "",
    durationSeconds,
    durationGiven: durationText !== undefined,
    sourceIdentity,
    tags,
    transitiveTagKeys,
    policy,
    policyArns,
    externalId,
    packedPolicyPercent,
  };
}

// --- The emulator -----------------------------------------------------------------------------

export function createStsEmulator(options: StsEmulatorOptions): StsEmulator {
  const region = options.region ?? "us-east-1";
  const roleMaxSessionSeconds = options.roleMaxSessionSeconds ?? DEFAULT_ROLE_MAX_SESSION_SECONDS;
  const faults: StsFault[] = [];
  const deniedRoles = new Set<string>();
  const assumeRoleCalls: AssumeRoleCall[] = [];
  const issued = new Map<string, IssuedCredentials>();
  /** Role ids are stable per role, as IAM's are. */
  const roleIds = new Map<string, string>();
  let requestCount = 0;

  const principals = new Map<string, KeyRecord>();
  for (const principal of options.principals) {
    const arn = principal.arn ?? DEFAULT_PRINCIPAL_ARN;
    const assumed = /:assumed-role\/[^/]+\/(.+)$/.exec(arn);
    const userId = assumed ? `AROA${randomString(BASE32, 17)}:${assumed[1]}` : `AIDA${randomString(BASE32, 17)}`;
    principals.set(principal.accessKeyId, {
      secretAccessKey: principal.secretAccessKey,
      sessionToken: principal.sessionToken,
      expiresAtMs: undefined,
      caller: {
        accessKeyId: principal.accessKeyId,
        arn,
        userId,
        account: accountOf(arn),
        isRoleSession: assumed !== null,
      },
    });
  }

  function lookupKey(accessKeyId: string): KeyRecord | undefined {
    const principal = principals.get(accessKeyId);
    if (principal !== undefined) return principal;
    const creds = issued.get(accessKeyId);
    if (creds === undefined) return undefined;
    return {
      secretAccessKey: creds.secretAccessKey,
      sessionToken: creds.sessionToken,
      expiresAtMs: creds.expiresAtMs,
      caller: {
        accessKeyId,
        arn: creds.arn,
        userId: creds.assumedRoleId,
        account: accountOf(creds.arn),
        isRoleSession: true,
      },
    };
  }

  /** Verifies the SigV4 Authorization header the way STS does (./aws-query-protocol.ts); returns the caller. */
  async function authenticate(request: Request, url: URL, body: string, region: string): Promise<Caller> {
    const accessKeyId = await verifySigV4(request, url, body, {
      service: "sts",
      region,
      nowMs: options.now(),
      lookupKey,
      ...(options.sha256 === undefined ? {} : { sha256: options.sha256 }),
    });
    return (lookupKey(accessKeyId) as KeyRecord).caller;
  }

  function roleIdFor(roleArn: string): string {
    let id = roleIds.get(roleArn);
    if (id === undefined) {
      id = `AROA${randomString(BASE32, 17)}`;
      roleIds.set(roleArn, id);
    }
    return id;
  }

  function assumeRole(
    params: Map<string, string>,
    caller: Caller,
    webIdentity?: AssumeRoleCall["webIdentity"],
  ): Response {
    const action = webIdentity === undefined ? "AssumeRole" : "AssumeRoleWithWebIdentity";
    const input = parseAssumeRole(
      webIdentity === undefined ? params : webIdentityParams(params, webIdentity),
      caller.isRoleSession,
    );
    if (deniedRoles.has(input.roleArn)) {
      throw new StsError(
        403,
        "AccessDenied",
        webIdentity === undefined
          ? `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.roleArn}`
          : "Not authorized to perform sts:AssumeRoleWithWebIdentity",
      );
    }
    if (input.durationSeconds > roleMaxSessionSeconds) {
      throw validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    }
    const nowMs = options.now();
    const lifetimeSeconds = options.credentialLifetimeSeconds ?? input.durationSeconds;
    // Whole seconds, so the XML Expiration and the expiry we enforce are the same instant.
    const expiresAtMs = Math.floor((nowMs + lifetimeSeconds * 1000) / 1000) * 1000;
    const expiration = isoSeconds(expiresAtMs);
    const accessKeyId = `ASIA${randomString(BASE32, 16)}`;
    const secretAccessKey = randomString(BASE64, 40);
    const sessionToken = `IQoJb3JpZ2luX2Vj${randomBase64(SESSION_TOKEN_RANDOM_BYTES)}`;
    const assumedRoleId = `${roleIdFor(input.roleArn)}:${input.roleSessionName}`;
    const arn = `arn:${input.partition}:sts::${input.account}:assumed-role/${input.roleName}/${input.roleSessionName}`;
    issued.set(accessKeyId, { secretAccessKey, sessionToken, expiresAtMs, arn, assumedRoleId });

    assumeRoleCalls.push({
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
      issuedAccessKeyId: accessKeyId,
      expiration,
      issuedAtMs: nowMs,
    });

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

  async function assumeRoleWithWebIdentity(request: Request, params: Map<string, string>): Promise<Response> {
    let verified: VerifiedWebIdentity;
    try {
      verified = await verifyWebIdentityToken(params.get("WebIdentityToken"), options.webIdentity, options.now());
    } catch (error) {
      if (error instanceof WebIdentityRejection) throw new StsError(error.status, error.code, error.message);
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
    return assumeRole(params, caller, { ...verified, signed: request.headers.has("authorization") });
  }

  function getCallerIdentity(caller: Caller): Response {
    const requestId = crypto.randomUUID();
    return xmlResponse(
      200,
      requestId,
      `<GetCallerIdentityResponse xmlns="${STS_XML_NAMESPACE}"><GetCallerIdentityResult><Arn>${xmlEscape(caller.arn)}</Arn>` +
        `<UserId>${xmlEscape(caller.userId)}</UserId><Account>${xmlEscape(caller.account)}</Account></GetCallerIdentityResult>` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  }

  async function answerFault(fault: StsFault, request: Request): Promise<Response> {
    switch (fault) {
      case "throttle":
        return errorResponse({ status: 400, type: "Sender", code: "Throttling", message: "Rate exceeded" });
      case "internal_error":
        return errorResponse({
          status: 500,
          type: "Receiver",
          code: "InternalFailure",
          message: "An internal error has occurred.",
        });
      case "service_unavailable":
        return errorResponse({
          status: 503,
          type: "Receiver",
          code: "ServiceUnavailable",
          message: "Service is unable to handle request.",
        });
      case "access_denied": {
        // Best effort at AWS's wording, ARNs included, so leak tests see a realistic message.
        const url = new URL(request.url);
        const { params } = await readQueryParams(request, url).catch(() => ({ params: new Map<string, string>() }));
        const keyId = /Credential=([^/,\s]+)\//.exec(request.headers.get("authorization") ?? "")?.[1];
        const callerArn = (keyId === undefined ? undefined : lookupKey(keyId)?.caller.arn) ?? DEFAULT_PRINCIPAL_ARN;
        const resource = params.get("RoleArn") ?? "*";
        return errorResponse({
          status: 403,
          type: "Sender",
          code: "AccessDenied",
          message: `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${resource}`,
        });
      }
      case "hang":
        return await hang(request.signal);
    }
  }

  async function processRequest(request: Request, region: string): Promise<Response> {
    if (request.method !== "GET" && request.method !== "POST") {
      throw new StsError(405, "InvalidHttpRequest", "STS accepts GET and POST requests only.");
    }
    const url = new URL(request.url);
    const { params, body } = await readQueryParams(request, url);
    // AssumeRoleWithWebIdentity needs no AWS credentials: the token is the authentication (API reference).
    if (params.get("Action") === "AssumeRoleWithWebIdentity" && params.get("Version") === STS_API_VERSION)
      return assumeRoleWithWebIdentity(request, params);
    const caller = await authenticate(request, url, body, region);

    const action = params.get("Action");
    const version = params.get("Version");
    if (action === undefined || action === "") throw new StsError(400, "MissingAction", "Missing Action");
    if (action !== "AssumeRole" && action !== "GetCallerIdentity") {
      throw new StsError(
        400,
        "InvalidAction",
        `Could not find operation ${action} for version ${version ?? "NO_VERSION_SPECIFIED"}`,
      );
    }
    if (version === undefined || version === "")
      throw new StsError(400, "MissingParameter", "The request must contain the parameter Version");
    if (version !== STS_API_VERSION)
      throw new StsError(400, "InvalidAction", `Could not find operation ${action} for version ${version}`);

    return action === "AssumeRole" ? assumeRole(params, caller) : getCallerIdentity(caller);
  }

  return {
    async handler(request, endpointRegion = region) {
      requestCount++;
      const fault = faults.shift();
      if (fault !== undefined) return await answerFault(fault, request);
      try {
        return await processRequest(request, endpointRegion);
      } catch (error) {
        if (error instanceof StsError) return errorResponse(error.shape);
        throw error;
      }
    },
    inject(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    denyRole(roleArn) {
      deniedRoles.add(roleArn);
    },
    assumeRoleCalls,
    get requestCount() {
      return requestCount;
    },
  };
}
