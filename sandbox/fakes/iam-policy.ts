// IAM identity policies as AWS documents them, for the fakes and tests: the grammar IAM checks before it stores a
// policy (MalformedPolicyDocument), and how AWS evaluates a statement's Condition against a request's context.
// Pure; no I/O. Only what the tests need, each rule as the IAM User Guide states it:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html.

const VERSIONS = new Set(["2008-10-17", "2012-10-17"]);
const STATEMENT_FIELDS = new Set([
  "Sid",
  "Effect",
  "Principal",
  "NotPrincipal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
]);
const OPERATORS = new Set([
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "NumericEquals",
  "NumericNotEquals",
  "NumericLessThan",
  "NumericLessThanEquals",
  "NumericGreaterThan",
  "NumericGreaterThanEquals",
  "DateEquals",
  "DateNotEquals",
  "DateLessThan",
  "DateLessThanEquals",
  "DateGreaterThan",
  "DateGreaterThanEquals",
  "Bool",
  "BinaryEquals",
  "IpAddress",
  "NotIpAddress",
  "ArnEquals",
  "ArnLike",
  "ArnNotEquals",
  "ArnNotLike",
  "Null",
]);
const ACTION = /^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$/;
const SID = /^[A-Za-z0-9]*$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** The base operator of `ForAnyValue:StringLikeIfExists`: `StringLike`. */
function baseOperator(operator: string): string {
  return operator.replace(/^For(All|Any)Values?:/, "").replace(/IfExists$/, "");
}

/** Why IAM would refuse this identity policy as MalformedPolicyDocument, or undefined when it is well formed. */
export function policyGrammarProblem(text: string): string | undefined {
  let policy: unknown;
  try {
    policy = JSON.parse(text);
  } catch {
    return "Syntax errors in policy.";
  }
  if (!isObject(policy)) return "Syntax errors in policy.";
  if (policy.Version !== undefined && !VERSIONS.has(String(policy.Version)))
    return "The policy must contain a valid version string";
  const statements = list(policy.Statement);
  if (policy.Statement === undefined || statements.length === 0) return "Syntax errors in policy.";
  for (const statement of statements) {
    if (!isObject(statement)) return "Syntax errors in policy.";
    if (Object.keys(statement).some((field) => !STATEMENT_FIELDS.has(field))) return "Syntax errors in policy.";
    if (statement.Principal !== undefined || statement.NotPrincipal !== undefined)
      return "Policy document should not specify a principal.";
    if (statement.Effect !== "Allow" && statement.Effect !== "Deny")
      return "Policy statement must contain a valid effect.";
    if (statement.Sid !== undefined && (typeof statement.Sid !== "string" || !SID.test(statement.Sid)))
      return "Statement IDs (SID) must be alpha-numeric.";
    const actions = statement.Action ?? statement.NotAction;
    if ((statement.Action === undefined) === (statement.NotAction === undefined))
      return "Policy statement must contain actions.";
    if (!list(actions).every((action) => typeof action === "string" && ACTION.test(action)))
      return "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
    if ((statement.Resource === undefined) === (statement.NotResource === undefined))
      return "Policy statement must contain resources.";
    if (statement.Condition === undefined) continue;
    if (!isObject(statement.Condition)) return "Syntax errors in policy.";
    for (const [operator, block] of Object.entries(statement.Condition)) {
      const base = baseOperator(operator);
      if (!OPERATORS.has(base)) return `Invalid Condition type : ${operator}.`;
      if (!isObject(block) || Object.keys(block).length === 0) return "Syntax errors in policy.";
      for (const values of Object.values(block)) {
        const items = list(values);
        if (items.length === 0 || !items.every((item) => ["string", "number", "boolean"].includes(typeof item)))
          return "Syntax errors in policy.";
        if (base.startsWith("Date") && !items.every((item) => typeof item === "number" || ISO_DATE.test(String(item))))
          return `Invalid date value in condition ${operator}.`;
      }
    }
  }
  return undefined;
}

/** A request as policy evaluation sees it: the action, the resource and the context keys (names case-insensitive). */
export interface RequestContext {
  action: string;
  resource: string;
  keys: Readonly<Record<string, string>>;
}

/** IAM wildcards: `*` any run of characters, `?` one character; everything else literal. */
function wildcard(pattern: string, value: string): boolean {
  const body = [...pattern]
    .map((char) =>
      char === "*" ? "[\\s\\S]*" : char === "?" ? "[\\s\\S]" : char.replace(/[.+^${}()|[\]\\/]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${body}$`, "u").test(value);
}

/** One operator against one present context value and one policy value. */
function compare(base: string, actual: string, expected: string): boolean {
  switch (base) {
    case "StringEquals":
      return actual === expected;
    case "StringEqualsIgnoreCase":
      return actual.toLowerCase() === expected.toLowerCase();
    case "StringLike":
      return wildcard(expected, actual);
    case "DateLessThan":
      return Date.parse(actual) < Date.parse(expected);
    case "DateGreaterThanEquals":
      return Date.parse(actual) >= Date.parse(expected);
    default:
      throw new Error(`iam-policy: operator ${base} is not implemented in the test evaluator`);
  }
}

/** Every operator and every key must hold (AND); any listed value may match (OR); an absent key fails the condition. */
function conditionHolds(condition: Record<string, unknown> | undefined, context: RequestContext): boolean {
  if (condition === undefined) return true;
  const keys = new Map(Object.entries(context.keys).map(([key, value]) => [key.toLowerCase(), value]));
  for (const [operator, block] of Object.entries(condition)) {
    const base = baseOperator(operator);
    for (const [key, values] of Object.entries(block as Record<string, unknown>)) {
      const actual = keys.get(key.toLowerCase());
      if (base === "Null") {
        if ((actual === undefined) !== (String(values) === "true")) return false;
        continue;
      }
      if (actual === undefined) {
        if (operator.endsWith("IfExists")) continue;
        return false;
      }
      if (!list(values).some((value) => compare(base, actual, String(value)))) return false;
    }
  }
  return true;
}

/**
 * How an identity policy alone answers a request: an explicit Deny wins, then an Allow; otherwise it does not apply.
 */
export function evaluateIdentityPolicy(text: string, context: RequestContext): "Deny" | "Allow" | "NotApplicable" {
  const policy = JSON.parse(text) as { Statement: unknown };
  let allowed = false;
  for (const statement of list(policy.Statement) as Array<Record<string, unknown>>) {
    const actionHit = list(statement.Action ?? "").some((pattern) => wildcard(String(pattern), context.action));
    const resourceHit = list(statement.Resource ?? "").some((pattern) => wildcard(String(pattern), context.resource));
    if (
      !actionHit ||
      !resourceHit ||
      !conditionHolds(statement.Condition as Record<string, unknown> | undefined, context)
    )
      continue;
    if (statement.Effect === "Deny") return "Deny";
    allowed = true;
  }
  return allowed ? "Allow" : "NotApplicable";
}

/**
 * The context keys of a role session the way AWS builds them: `aws:TokenIssueTime` and `aws:PrincipalTag/<key>` per
 * session tag.
 */
export function sessionContextKeys(session: {
  issuedAtMs: number;
  tags: ReadonlyArray<{ key: string; value: string }>;
}): Record<string, string> {
  const keys: Record<string, string> = { "aws:TokenIssueTime": new Date(session.issuedAtMs).toISOString() };
  for (const tag of session.tags) keys[`aws:PrincipalTag/${tag.key}`] = tag.value;
  return keys;
}
