// AssumeRole's member constraints, as STS checks them before anything else: each parameter's presence, length,
// pattern and range, and each list's size. Every violation is collected and reported together in one ValidationError,
// in AWS's wording ("Value 'x' at 'field' failed to satisfy constraint: ..."). Pure: no clock, no I/O.
// Reference: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html.
import { AwsError } from "./aws-query-protocol.ts";

/** AssumeRole DurationSeconds bounds and default. */
const MIN_DURATION_SECONDS = 900;
const MAX_DURATION_SECONDS = 43_200;
const DEFAULT_DURATION_SECONDS = 3_600;
/** RoleArn / PolicyArns.member.N.arn length bounds. */
const MIN_ARN_CHARS = 20;
const MAX_ARN_CHARS = 2_048;
/** RoleSessionName and SourceIdentity length bounds. */
const MIN_NAME_CHARS = 2;
const MAX_NAME_CHARS = 64;
/** ExternalId length bounds. */
const MIN_EXTERNAL_ID_CHARS = 2;
const MAX_EXTERNAL_ID_CHARS = 1_224;
/** Managed session policies per call. */
const MAX_POLICY_ARNS = 10;
/** Session tags per call, and transitive tag keys per call. */
const MAX_TAGS = 50;
const MAX_TAG_KEY_CHARS = 128;
const MAX_TAG_VALUE_CHARS = 256;
const NAME_PATTERN = /^[\w+=,.@-]*$/;
const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]*$/;
const TAG_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** Policy plaintext may hold tab, LF, CR and U+0020-U+00FF only. */
const POLICY_CHARS_PATTERN = /^[\u0009\u000A\u000D\u0020-\u00FF]*$/;

export const validationError = (message: string) => new AwsError(400, "ValidationError", message);

/** Length in Unicode code points, as AWS counts characters. */
export function chars(value: string): number {
  return [...value].length;
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

/** The scalar members (RoleArn, RoleSessionName, DurationSeconds, SourceIdentity, ExternalId, Policy); the duration. */
function checkScalarMembers(problems: string[], params: Map<string, string>): number {
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
  return durationSeconds;
}

/** The list members, as accepted. */
export interface ListMembers {
  policyArns: string[];
  tags: Array<{ key: string; value: string }>;
  transitiveTagKeys: string[];
}

/** The list members (PolicyArns, Tags, TransitiveTagKeys): their counts and each member's constraints. */
function checkListMembers(problems: string[], params: Map<string, string>): ListMembers {
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
  return { policyArns: policyArnMembers.map((m) => m.value), tags, transitiveTagKeys };
}

/**
 * Checks every member constraint and throws one ValidationError listing them all, as STS does; returns the
 * duration (AWS's default of 3600 when absent) and the list members.
 */
export function checkMembers(params: Map<string, string>): { durationSeconds: number; lists: ListMembers } {
  const problems: string[] = [];
  const durationSeconds = checkScalarMembers(problems, params);
  const lists = checkListMembers(problems, params);
  if (problems.length > 0) {
    throw validationError(
      `${problems.length} validation error${problems.length > 1 ? "s" : ""} detected: ${problems.join("; ")}`,
    );
  }
  return { durationSeconds, lists };
}
