// AWS's rules for AssumeRole's parameters once their member constraints hold (./sts-member-constraints.ts): the
// semantic rules, each its own error, then the packed size of policy, policy ARNs and tags. Pure: no clock, no I/O.
// The limits are declared here, not imported from src/, on purpose: the emulator stands in for AWS and must stay
// independent of what the broker believes AWS allows.
// Reference: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html.
import { AwsError } from "./aws-query-protocol.ts";
import { chars, checkMembers, type ListMembers, validationError } from "./sts-member-constraints.ts";

/** Role chaining caps a session at one hour whatever the role allows. */
const ROLE_CHAINING_MAX_SECONDS = 3_600;
/** Inline session policy plaintext limit. */
const MAX_POLICY_CHARS = 2_048;
/**
 * AWS packs policy, managed policy ARNs and tags into a binary format with its own undocumented limit
 * (PackedPolicySize is a percentage of it). We estimate: minified policy + ARN + tag key/value characters
 * against this budget. AWS's own example (a ~115-char policy plus two short tags) reports 6-8 %; this gives
 * about 4 %. A 2048-char policy alone fits (50 %); large tag sets overflow it, as they can on AWS.
 */
const PACKED_BUDGET_CHARS = 4_096;
const ROLE_ARN_PATTERN = /^arn:(aws[\w-]*):iam::(\d{12}):role\/([\w+=,.@/-]{1,512})$/;
const POLICY_ARN_PATTERN = /^arn:aws[\w-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]{1,512}$/;

/** AssumeRole's parameters once AWS has accepted them. */
export interface AssumeRoleInput {
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

/** The semantic rules, each its own error; returns the role ARN's parts. */
function checkSemantics(
  params: Map<string, string>,
  lists: ListMembers,
  durationSeconds: number,
  isRoleSession: boolean,
): { partition: string; account: string; roleName: string } {
  const roleArn = params.get("RoleArn");
  const sourceIdentity = params.get("SourceIdentity");
  const { tags, transitiveTagKeys } = lists;
  const arnMatch = ROLE_ARN_PATTERN.exec(roleArn ?? "");
  if (arnMatch === null) throw validationError(`${roleArn} is invalid`);
  const [, partition = "aws", account = "", rolePath = ""] = arnMatch;
  const roleName = rolePath.slice(rolePath.lastIndexOf("/") + 1);
  if (roleName === "") throw validationError(`${roleArn} is invalid`);
  for (const arn of lists.policyArns) {
    if (!POLICY_ARN_PATTERN.test(arn)) throw validationError(`${arn} is invalid`);
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
  return { partition, account, roleName };
}

/** PackedPolicySize: the share of AWS's budget the session policy, policy ARNs and tags use; over 100 % is refused. */
function packedPolicyPercent(policy: string | undefined, lists: ListMembers): number | undefined {
  const { policyArns, tags } = lists;
  let minifiedPolicyChars = 0;
  if (policy !== undefined) {
    if (chars(policy) > MAX_POLICY_CHARS) {
      throw new AwsError(
        400,
        "PackedPolicyTooLarge",
        `Session policy plaintext exceeds ${MAX_POLICY_CHARS} characters.`,
      );
    }
    let document: unknown;
    try {
      document = JSON.parse(policy);
    } catch {
      throw new AwsError(400, "MalformedPolicyDocument", "The policy is not in the valid JSON format.");
    }
    if (typeof document !== "object" || document === null || Array.isArray(document)) {
      throw new AwsError(400, "MalformedPolicyDocument", "Syntax errors in policy.");
    }
    minifiedPolicyChars = chars(JSON.stringify(document));
  }
  let packedPolicyPercent: number | undefined;
  if (policy !== undefined || policyArns.length > 0 || tags.length > 0) {
    const units =
      minifiedPolicyChars +
      policyArns.reduce((sum, arn) => sum + chars(arn), 0) +
      tags.reduce((sum, t) => sum + chars(t.key) + chars(t.value), 0);
    packedPolicyPercent = Math.max(1, Math.ceil((100 * units) / PACKED_BUDGET_CHARS));
    if (packedPolicyPercent > 100) {
      throw new AwsError(
        400,
        "PackedPolicyTooLarge",
        `Packed size of session policy and session tags consumes ${packedPolicyPercent}% of allotted space, please use smaller policy or tags.`,
      );
    }
  }
  return packedPolicyPercent;
}

/** Validates AssumeRole's parameters in AWS's order: member constraints together, then the semantic rules. */
export function parseAssumeRole(params: Map<string, string>, isRoleSession: boolean): AssumeRoleInput {
  const { durationSeconds, lists } = checkMembers(params);
  // Semantic rules, each its own error (members above are known present and well-formed from here).
  const { partition, account, roleName } = checkSemantics(params, lists, durationSeconds, isRoleSession);
  const policy = params.get("Policy");
  return {
    roleArn: params.get("RoleArn") ?? "",
    roleName,
    account,
    partition,
    roleSessionName: params.get("RoleSessionName") ?? "",
    durationSeconds,
    durationGiven: params.get("DurationSeconds") !== undefined,
    sourceIdentity: params.get("SourceIdentity"),
    tags: lists.tags,
    transitiveTagKeys: lists.transitiveTagKeys,
    policy,
    policyArns: lists.policyArns,
    externalId: params.get("ExternalId"),
    packedPolicyPercent: packedPolicyPercent(policy, lists),
  };
}
