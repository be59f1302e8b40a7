// AssumeRole's parameter rules at their boundaries, through the STS emulator: member constraints reported together,
// then each semantic rule, then the packed size of policy and tags (sandbox/fakes/sts-member-constraints.ts and
// sts-assume-role-params.ts).
import { describe, expect, it } from "vitest";
import { ROLE, setup, signPost, assumeRoleParams, send, xmlValue, credentialsOf } from "./sts-requests.ts";

function policyOfLength(length: number): string {
  const shell = (pad: string) =>
    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${pad}"}]}`;
  const policy = shell("x".repeat(length - shell("").length));
  expect(policy).toHaveLength(length);
  return policy;
}

function tagParams(
  count: number,
  make: (i: number) => [string, string] = (i) => [`k${i}`, `v${i}`],
): Record<string, string> {
  const params: Record<string, string> = {};
  for (let i = 1; i <= count; i++) {
    const [key, value] = make(i);
    params[`Tags.member.${i}.Key`] = key;
    params[`Tags.member.${i}.Value`] = value;
  }
  return params;
}

function policyArnParams(count: number): Record<string, string> {
  const params: Record<string, string> = {};
  for (let i = 1; i <= count; i++) params[`PolicyArns.member.${i}.arn`] = `arn:aws:iam::123456789012:policy/p${i}`;
  return params;
}

describe("AssumeRole parameter rules", () => {
  type Case = [name: string, params: Record<string, string | undefined>, expected: "ok" | string];
  const cases: Case[] = [
    // RoleSessionName: 2..64 of [\w+=,.@-]
    ["session name of 1 char", { RoleSessionName: "a" }, "ValidationError"],
    ["session name of 2 chars", { RoleSessionName: "ab" }, "ok"],
    ["session name of 64 chars", { RoleSessionName: "s".repeat(64) }, "ok"],
    ["session name of 65 chars", { RoleSessionName: "s".repeat(65) }, "ValidationError"],
    ["session name with all allowed symbols", { RoleSessionName: "a_Z9+=,.@-" }, "ok"],
    ["session name with a space", { RoleSessionName: "ci session" }, "ValidationError"],
    ["session name with a slash", { RoleSessionName: "octo/repo" }, "ValidationError"],
    ["missing session name", { RoleSessionName: undefined }, "ValidationError"],
    // RoleArn
    ["missing role ARN", { RoleArn: undefined }, "ValidationError"],
    ["role ARN with a short account", { RoleArn: "arn:aws:iam::12345:role/deploy-role" }, "ValidationError"],
    ["a user ARN as role ARN", { RoleArn: "arn:aws:iam::123456789012:user/deploy" }, "ValidationError"],
    ["an S3 ARN as role ARN", { RoleArn: "arn:aws:s3:::bucket/role/deploy" }, "ValidationError"],
    ["role ARN with a trailing slash", { RoleArn: "arn:aws:iam::123456789012:role/ci/" }, "ValidationError"],
    ["GovCloud role ARN", { RoleArn: "arn:aws-us-gov:iam::123456789012:role/deploy" }, "ok"],
    // DurationSeconds: 900..43200 and <= the role's MaxSessionDuration (3600 by default)
    ["duration 899", { DurationSeconds: "899" }, "ValidationError"],
    ["duration 900", { DurationSeconds: "900" }, "ok"],
    ["duration 3600", { DurationSeconds: "3600" }, "ok"],
    ["duration 3601 above the default role maximum", { DurationSeconds: "3601" }, "ValidationError"],
    ["duration 43201", { DurationSeconds: "43201" }, "ValidationError"],
    ["duration not an integer", { DurationSeconds: "900.5" }, "ValidationError"],
    ["duration not a number", { DurationSeconds: "soon" }, "ValidationError"],
    // SourceIdentity: 2..64 of [\w+=,.@-], not aws:
    ["source identity of 1 char", { SourceIdentity: "a" }, "ValidationError"],
    ["source identity of 2 chars", { SourceIdentity: "ab" }, "ok"],
    ["source identity of 64 chars", { SourceIdentity: "i".repeat(64) }, "ok"],
    ["source identity of 65 chars", { SourceIdentity: "i".repeat(65) }, "ValidationError"],
    ["source identity starting aws:", { SourceIdentity: "aws:me" }, "ValidationError"],
    ["source identity starting AWS:", { SourceIdentity: "AWS:me" }, "ValidationError"],
    ["source identity with a space", { SourceIdentity: "gh-octo cat" }, "ValidationError"],
    ["source identity with a slash", { SourceIdentity: "octo/cat" }, "ValidationError"],
    ["source identity with all allowed symbols", { SourceIdentity: "a_Z9+=,.@-" }, "ok"],
    // Tags: at most 50; key 1..128, value 0..256, [\p{L}\p{Z}\p{N}_.:/=+\-@]; unique keys, case-insensitively
    ["50 tags", tagParams(50), "ok"],
    ["51 tags", tagParams(51), "ValidationError"],
    ["tag key of 128 chars", tagParams(1, () => ["k".repeat(128), "v"]), "ok"],
    ["tag key of 129 chars", tagParams(1, () => ["k".repeat(129), "v"]), "ValidationError"],
    ["empty tag key", tagParams(1, () => ["", "v"]), "ValidationError"],
    ["tag value of 256 chars", tagParams(1, () => ["k", "v".repeat(256)]), "ok"],
    ["tag value of 257 chars", tagParams(1, () => ["k", "v".repeat(257)]), "ValidationError"],
    ["empty tag value", tagParams(1, () => ["k", ""]), "ok"],
    ["tag with every allowed symbol and Unicode letters", tagParams(1, () => ["ключ _.:/=+-@", "значение 42"]), "ok"],
    ["tag value with *", tagParams(1, () => ["k", "refs/*"]), "ValidationError"],
    ["tag value with a comma", tagParams(1, () => ["k", "a,b"]), "ValidationError"],
    ["tag key with <", tagParams(1, () => ["<k>", "v"]), "ValidationError"],
    ["duplicate tag keys differing in case", tagParams(2, (i) => [i === 1 ? "Repo" : "repo", "v"]), "ValidationError"],
    ["tag key starting aws:", tagParams(1, () => ["aws:repo", "v"]), "ValidationError"],
    ["tag key starting AWS:", tagParams(1, () => ["AWS:repo", "v"]), "ValidationError"],
    ["tag key without a value", { "Tags.member.1.Key": "k" }, "ValidationError"],
    // TransitiveTagKeys must name requested tags
    [
      "transitive key present in tags (case-insensitive)",
      { ...tagParams(1, () => ["repo", "v"]), "TransitiveTagKeys.member.1": "REPO" },
      "ok",
    ],
    [
      "transitive key not in tags",
      { ...tagParams(1, () => ["repo", "v"]), "TransitiveTagKeys.member.1": "ref" },
      "ValidationError",
    ],
    ["transitive key without tags", { "TransitiveTagKeys.member.1": "repo" }, "ValidationError"],
    // Policy: JSON object, at most 2048 characters
    ["policy of 2048 chars", { Policy: policyOfLength(2048) }, "ok"],
    ["policy of 2049 chars", { Policy: policyOfLength(2049) }, "PackedPolicyTooLarge"],
    ["policy that is not JSON", { Policy: '{"Version":"2012-10-17",' }, "MalformedPolicyDocument"],
    ["policy that is a JSON array", { Policy: "[]" }, "MalformedPolicyDocument"],
    ["empty policy", { Policy: "" }, "ValidationError"],
    ["policy with a character above U+00FF", { Policy: '{"Sid":"\u0100"}' }, "ValidationError"],
    [
      "policy and tags too large once packed",
      { Policy: policyOfLength(2048), ...tagParams(10, (i) => [`key${i}`, "v".repeat(256)]) },
      "PackedPolicyTooLarge",
    ],
    // PolicyArns: at most 10
    ["10 policy ARNs", policyArnParams(10), "ok"],
    ["11 policy ARNs", policyArnParams(11), "ValidationError"],
    ["policy ARN that names a role", { "PolicyArns.member.1.arn": ROLE }, "ValidationError"],
    // ExternalId: 2..1224 of [\w+=,.@:\/-]
    ["external id of 1 char", { ExternalId: "e" }, "ValidationError"],
    ["external id of 2 chars", { ExternalId: "e1" }, "ok"],
    ["external id of 1224 chars", { ExternalId: "e".repeat(1224) }, "ok"],
    ["external id of 1225 chars", { ExternalId: "e".repeat(1225) }, "ValidationError"],
    ["external id with a space", { ExternalId: "ext id" }, "ValidationError"],
  ];

  it.each(cases)("%s -> %s", async (_name, overrides, expected) => {
    const { sts } = setup();
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...assumeRoleParams(), ...overrides }))
      if (value !== undefined) params[key] = value;
    const answer = await send(sts, await signPost(params));
    if (expected === "ok") {
      expect(answer.status, answer.body).toBe(200);
      expect(sts.assumeRoleCalls).toHaveLength(1);
    } else {
      expect([answer.status, answer.code]).toEqual([400, expected]);
      expect(xmlValue(answer.body, "Type")).toBe("Sender");
      expect(sts.assumeRoleCalls).toHaveLength(0);
    }
  });

  it("accepts DurationSeconds up to a longer role maximum, and 43200 at most", async () => {
    const { sts } = setup({ roleMaxSessionSeconds: 43_200 });
    const ok = await send(sts, await signPost(assumeRoleParams({ DurationSeconds: "43200" })));
    expect(ok.status).toBe(200);
    expect(credentialsOf(ok.body).expiration).toBe("2026-11-26T08:52:00Z");
    expect((await send(sts, await signPost(assumeRoleParams({ DurationSeconds: "43201" })))).code).toBe(
      "ValidationError",
    );
  });

  it("reports every member constraint in one AWS-style message and escapes what it echoes", async () => {
    const { sts } = setup();
    const answer = await send(
      sts,
      await signPost(assumeRoleParams({ RoleSessionName: "<a&b>", DurationSeconds: "1" })),
    );
    expect(answer.code).toBe("ValidationError");
    expect(answer.body).toContain("2 validation errors detected: ");
    expect(answer.body).toContain("Value '&lt;a&amp;b&gt;' at 'roleSessionName'");
    expect(answer.body).not.toContain("<a&b>");
  });

  it("caps role chaining at one hour", async () => {
    const { sts } = setup({ roleMaxSessionSeconds: 43_200 });
    const first = credentialsOf((await send(sts, await signPost(assumeRoleParams()))).body);
    const chained = await send(sts, await signPost(assumeRoleParams({ DurationSeconds: "3601" }), { creds: first }));
    expect([chained.status, chained.code]).toEqual([400, "ValidationError"]);
    const ok = await send(sts, await signPost(assumeRoleParams({ DurationSeconds: "3600" }), { creds: first }));
    expect(ok.status).toBe(200);
    expect(sts.assumeRoleCalls[1]?.accessKeyId).toBe(first.accessKeyId);
  });
});
