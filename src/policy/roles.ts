// Compiles the policy's `roles` into RoleGrants (src/aws/session.ts): ARNs, durations, session policy size, operator
// session tags and external id checked against STS's rules. Pure; no I/O. Fails naming the role at fault.
import type { RoleGrant } from "../aws/session.ts";
import {
  ALL_BROKER_SESSION_TAG_KEYS,
  isValidTagKey,
  isValidTagValue,
  MAX_BROKER_SESSION_TAGS,
} from "../aws/session-tags.ts";
import {
  DEFAULT_SESSION_DURATION_SECONDS,
  STS_MAX_EXTERNAL_ID_CHARS,
  STS_MAX_POLICY_ARNS,
  STS_MAX_SESSION_POLICY_CHARS,
  STS_MAX_SESSION_TAGS,
  STS_MIN_EXTERNAL_ID_CHARS,
} from "../aws/constants.ts";
import { STS_MAX_DURATION_SECONDS, STS_MIN_DURATION_SECONDS } from "../http/constants.ts";
import { fail, isPlainObject } from "./compile-error.ts";
import type { RoleDefinition } from "./types.ts";

/**
 * IAM role ARN: partition, empty region, 12-digit account, `role/` with an optional path. (IAM User Guide, "IAM ARNs".)
 */
const ROLE_ARN_PATTERN =
  /^arn:aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f)?:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
/** IAM managed policy ARN: an account's own (12 digits) or AWS managed (`aws`), optional path. */
const POLICY_ARN_PATTERN =
  /^arn:aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f)?:iam::(\d{12}|aws):policy\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/;
/** STS ExternalId characters (AssumeRole API reference). */
const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]*$/;
export const ALIAS_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** The most tags the broker may set for one session (claim tags and Issuer): operator tags must fit beside them. */
const MAX_BROKER_CLAIM_TAGS = MAX_BROKER_SESSION_TAGS;
const ROLE_FIELDS = new Set<string>([
  "arn",
  "maxDurationSeconds",
  "privileged",
  "sessionPolicy",
  "managedPolicyArns",
  "sessionTags",
  "transitiveTagKeys",
  "externalId",
]);

function checkDuration(where: string, def: RoleDefinition): number {
  const maxDurationSeconds = def.maxDurationSeconds ?? DEFAULT_SESSION_DURATION_SECONDS;
  if (
    !Number.isInteger(maxDurationSeconds) ||
    maxDurationSeconds < STS_MIN_DURATION_SECONDS ||
    maxDurationSeconds > STS_MAX_DURATION_SECONDS
  ) {
    fail(
      where,
      `maxDurationSeconds must be an integer from ${STS_MIN_DURATION_SECONDS} to ${STS_MAX_DURATION_SECONDS}`,
      "role_invalid",
    );
  }
  return maxDurationSeconds;
}

function compileSessionPolicy(where: string, def: RoleDefinition): string | undefined {
  let sessionPolicyJson: string | undefined;
  if (def.sessionPolicy !== undefined) {
    if (!isPlainObject(def.sessionPolicy))
      fail(`${where}.sessionPolicy`, "must be an IAM policy document (an object)", "role_invalid");
    sessionPolicyJson = JSON.stringify(def.sessionPolicy);
    if (sessionPolicyJson.length > STS_MAX_SESSION_POLICY_CHARS) {
      fail(
        `${where}.sessionPolicy`,
        `sessionPolicy is ${sessionPolicyJson.length} characters; STS allows ${STS_MAX_SESSION_POLICY_CHARS}`,
        "session_policy_too_large",
      );
    }
  }
  return sessionPolicyJson;
}

function checkPolicyArns(where: string, def: RoleDefinition): readonly string[] {
  const policyArns = def.managedPolicyArns ?? [];
  if (!Array.isArray(policyArns) || policyArns.length > STS_MAX_POLICY_ARNS) {
    fail(`${where}.managedPolicyArns`, `must be a list of at most ${STS_MAX_POLICY_ARNS} policy ARNs`, "arn_invalid");
  }
  for (const [index, arn] of policyArns.entries()) {
    if (typeof arn !== "string" || !POLICY_ARN_PATTERN.test(arn)) {
      fail(
        `${where}.managedPolicyArns[${index}]`,
        "is not an IAM policy ARN (arn:<partition>:iam::<12 digits|aws>:policy/<name>)",
        "arn_invalid",
      );
    }
    if (policyArns.indexOf(arn) !== index)
      fail(`${where}.managedPolicyArns[${index}]`, "duplicate policy ARN", "arn_invalid");
  }
  return policyArns;
}

/** The operator's session tags, and their keys by lower case (STS keys are case-insensitive). */
function compileSessionTags(
  where: string,
  def: RoleDefinition,
): { sessionTags: Array<readonly [string, string]>; seenKeys: Map<string, string> } {
  const sessionTags: Array<readonly [string, string]> = [];
  const brokerKeys = new Set(ALL_BROKER_SESSION_TAG_KEYS.map((key) => key.toLowerCase()));
  const seenKeys = new Map<string, string>();
  for (const [key, value] of Object.entries(def.sessionTags ?? {})) {
    const at = `${where}.sessionTags.${key}`;
    if (!isValidTagKey(key)) {
      fail(at, "invalid session tag key", "session_tag_invalid");
    }
    // STS tag keys are case-insensitive: `Team` and `team` are one key, and the broker's keys are taken.
    if (brokerKeys.has(key.toLowerCase()))
      fail(at, "the broker sets this tag from the token's claims", "session_tag_invalid");
    if (seenKeys.has(key.toLowerCase()))
      fail(at, "duplicate session tag key (STS keys are case-insensitive)", "session_tag_invalid");
    if (typeof value !== "string" || !isValidTagValue(value)) {
      fail(at, "invalid session tag value", "session_tag_invalid");
    }
    seenKeys.set(key.toLowerCase(), key);
    sessionTags.push([key, value]);
  }
  if (sessionTags.length + MAX_BROKER_CLAIM_TAGS > STS_MAX_SESSION_TAGS) {
    fail(
      `${where}.sessionTags`,
      `at most ${STS_MAX_SESSION_TAGS - MAX_BROKER_CLAIM_TAGS} operator tags fit beside the broker's`,
      "session_tag_invalid",
    );
  }
  return { sessionTags, seenKeys };
}

function compileTransitiveKeys(where: string, def: RoleDefinition, seenKeys: ReadonlyMap<string, string>): string[] {
  const transitiveTagKeys: string[] = [];
  for (const key of def.transitiveTagKeys ?? []) {
    const declared = typeof key === "string" ? seenKeys.get(key.toLowerCase()) : undefined;
    if (declared === undefined) {
      fail(
        `${where}.transitiveTagKeys`,
        `"${String(key)}" is not one of this role's sessionTags (the broker's own tags are always transitive)`,
        "session_tag_invalid",
      );
    }
    if (!transitiveTagKeys.includes(declared)) transitiveTagKeys.push(declared);
  }
  return transitiveTagKeys;
}

function checkExternalId(where: string, def: RoleDefinition): void {
  const id = def.externalId;
  if (
    typeof id !== "string" ||
    id.length < STS_MIN_EXTERNAL_ID_CHARS ||
    id.length > STS_MAX_EXTERNAL_ID_CHARS ||
    !EXTERNAL_ID_PATTERN.test(id)
  ) {
    fail(
      `${where}.externalId`,
      `must be ${STS_MIN_EXTERNAL_ID_CHARS}..${STS_MAX_EXTERNAL_ID_CHARS} characters of [\\w+=,.@:/-]`,
      "role_invalid",
    );
  }
}

export function compileRole(name: string, def: RoleDefinition): RoleGrant {
  const where = `roles.${name}`;
  if (!ALIAS_PATTERN.test(name)) fail(where, "role name must match [a-z0-9][a-z0-9_-]{0,63}", "role_invalid");
  if (!isPlainObject(def)) fail(where, "must be an object", "role_invalid");
  for (const field of Object.keys(def))
    if (!ROLE_FIELDS.has(field)) fail(`${where}.${field}`, "unknown role field", "role_invalid");
  if (typeof def.arn !== "string" || !ROLE_ARN_PATTERN.test(def.arn)) {
    fail(where, "arn is not an IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>)", "arn_invalid");
  }
  const maxDurationSeconds = checkDuration(where, def);
  if (def.privileged !== undefined && typeof def.privileged !== "boolean")
    fail(`${where}.privileged`, "must be a boolean", "role_invalid");
  const sessionPolicyJson = compileSessionPolicy(where, def);
  const policyArns = checkPolicyArns(where, def);
  const { sessionTags, seenKeys } = compileSessionTags(where, def);
  const transitiveTagKeys = compileTransitiveKeys(where, def, seenKeys);
  if (def.externalId !== undefined) checkExternalId(where, def);
  return {
    alias: name,
    arn: def.arn,
    maxDurationSeconds,
    sessionPolicyJson,
    sessionTags,
    privileged: def.privileged === true,
    policyArns: [...policyArns],
    transitiveTagKeys,
    externalId: def.externalId,
  };
}
