// The IAM policy helpers of the fakes (sandbox/fakes/iam-policy.ts) hold to AWS's documented rules: the grammar IAM
// refuses as MalformedPolicyDocument, and condition evaluation (AND across operators and keys, OR across values, an
// absent key fails, IfExists and Null, IAM wildcards, case-insensitive key names).
import { describe, expect, it } from "vitest";
import { evaluateIdentityPolicy, policyGrammarProblem } from "../../../sandbox/fakes/iam-policy.ts";

const deny = (condition: Record<string, unknown>) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Deny", Action: "*", Resource: "*", Condition: condition }],
  });
const request = (keys: Record<string, string>) => ({ action: "s3:GetObject", resource: "arn:aws:s3:::b/k", keys });

describe("policyGrammarProblem", () => {
  it.each([
    ["not JSON", "{"],
    ["a bad version", '{"Version":"2013-01-01","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'],
    ["no statement", '{"Version":"2012-10-17"}'],
    [
      "a principal in an identity policy",
      '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}',
    ],
    ["a bad effect", '{"Version":"2012-10-17","Statement":[{"Effect":"Block","Action":"*","Resource":"*"}]}'],
    ["no resource", '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*"}]}'],
    ["an unknown operator", deny({ StringEqualz: { a: "b" } })],
    ["a bad date", deny({ DateLessThan: { "aws:TokenIssueTime": "soon" } })],
  ])("refuses %s", (_, text) => {
    expect(policyGrammarProblem(text)).toBeDefined();
  });

  it("accepts operators with set and IfExists qualifiers", () => {
    expect(
      policyGrammarProblem(
        deny({ "ForAnyValue:StringLikeIfExists": { "aws:TagKeys": ["a*"] }, Null: { "aws:PrincipalTag/X": "false" } }),
      ),
    ).toBeUndefined();
  });
});

describe("evaluateIdentityPolicy", () => {
  const policy = deny({
    DateLessThan: { "aws:TokenIssueTime": "2026-11-25T12:00:00Z" },
    StringEqualsIgnoreCase: { "aws:PrincipalTag/Repository": ["acme/app", "acme/web"] },
  });

  it("denies only when every operator and key holds; any listed value may match", () => {
    expect(
      evaluateIdentityPolicy(
        policy,
        request({ "aws:TokenIssueTime": "2026-11-25T11:59:59.000Z", "aws:principaltag/repository": "Acme/Web" }),
      ),
    ).toBe("Deny");
    expect(
      evaluateIdentityPolicy(
        policy,
        request({ "aws:TokenIssueTime": "2026-11-25T12:00:00.000Z", "aws:PrincipalTag/Repository": "acme/app" }),
      ),
    ).toBe("NotApplicable");
    expect(
      evaluateIdentityPolicy(
        policy,
        request({ "aws:TokenIssueTime": "2026-11-25T11:00:00.000Z", "aws:PrincipalTag/Repository": "acme/other" }),
      ),
    ).toBe("NotApplicable");
  });

  it("an absent key fails the condition, unless IfExists; Null tests presence", () => {
    expect(evaluateIdentityPolicy(policy, request({ "aws:TokenIssueTime": "2026-11-25T11:00:00.000Z" }))).toBe(
      "NotApplicable",
    );
    expect(evaluateIdentityPolicy(deny({ StringEqualsIfExists: { "aws:PrincipalTag/X": "y" } }), request({}))).toBe(
      "Deny",
    );
    expect(evaluateIdentityPolicy(deny({ Null: { "aws:PrincipalTag/X": "true" } }), request({}))).toBe("Deny");
    expect(
      evaluateIdentityPolicy(deny({ Null: { "aws:PrincipalTag/X": "true" } }), request({ "aws:PrincipalTag/X": "" })),
    ).toBe("NotApplicable");
  });

  it("StringLike: * any run, ? one character, case-sensitive", () => {
    const like = deny({ StringLike: { "aws:PrincipalTag/Actor": "octo??t*" } });
    expect(evaluateIdentityPolicy(like, request({ "aws:PrincipalTag/Actor": "octocat-bot" }))).toBe("Deny");
    expect(evaluateIdentityPolicy(like, request({ "aws:PrincipalTag/Actor": "Octocat" }))).toBe("NotApplicable");
  });
});
