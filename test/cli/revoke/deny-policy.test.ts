// The revocation policy (src/cli/revoke/deny-policy.ts): AWS's documented deny on aws:TokenIssueTime, scoped by the
// very tag keys and escaped values buildAssumeRoleInput sets, well formed for IAM, named so that a rerun replaces it.
import { describe, expect, it } from "vitest";
import { buildAssumeRoleInput, type RoleGrant, type SessionClaims } from "../../../src/aws/session.ts";
import {
  buildDenyPolicy,
  countedPolicyChars,
  cutoffOf,
  denyPolicyName,
  formatCutoff,
  parseCutoff,
  REVOKE_POLICY_NAME_PREFIX,
  UntaggableSubjectError,
} from "../../../src/cli/revoke/deny-policy.ts";
import { githubClaims } from "../../../sandbox/fakes/fake-issuer.ts";
import { gitlabClaims } from "../../support/gitlab-claims.ts";
import { policyGrammarProblem } from "../../../sandbox/fakes/iam-policy.ts";

const CUTOFF = Date.UTC(2026, 10, 25, 12, 1, 19);
const GITHUB_URL = "https://token.actions.githubusercontent.com";
const grant: RoleGrant = {
  alias: "deploy",
  arn: "arn:aws:iam::111122223333:role/deploy",
  maxDurationSeconds: 3600,
  sessionPolicyJson: undefined,
  sessionTags: [],
};

/** The tags the broker sets for these claims (src/aws/session.ts). */
async function brokerTags(
  kind: "github" | "gitlab",
  claims: Record<string, unknown>,
  issuer = GITHUB_URL,
): Promise<Map<string, string>> {
  const tokenSha256 = "0123456789abcdef";
  const input = await buildAssumeRoleInput({
    issuer: { id: kind, kind, issuer },
    claims: claims as unknown as SessionClaims,
    grant,
    durationSeconds: 900,
    tokenSha256,
  });
  return new Map(input.tags.map((tag) => [tag.key, tag.value]));
}

describe("buildDenyPolicy", () => {
  it("is AWS's documented revocation: Deny * on * before the cutoff, for the broker's sessions of one issuer and repository", async () => {
    const policy = await buildDenyPolicy({
      kind: "github",
      issuerUrl: GITHUB_URL,
      subject: { repository: "acme/app" },
      cutoffMs: CUTOFF,
    });
    expect(JSON.parse(policy.document)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "RevokeCiCredentialBrokerSessions",
          Effect: "Deny",
          Action: "*",
          Resource: "*",
          Condition: {
            DateLessThan: { "aws:TokenIssueTime": "2026-11-25T12:01:19Z" },
            StringEquals: { "aws:PrincipalTag/Issuer": GITHUB_URL },
            StringEqualsIgnoreCase: { "aws:PrincipalTag/Repository": "acme/app" },
          },
        },
      ],
    });
    expect(policyGrammarProblem(policy.document)).toBeUndefined();
  });

  it("uses the tag keys and escaped values the broker sets: Repository/Actor on GitHub, Project/User on GitLab, Issuer on both", async () => {
    const actor = "dependabot[bot]";
    const github = await brokerTags("github", githubClaims({ actor }));
    const githubPolicy = await buildDenyPolicy({
      kind: "github",
      issuerUrl: GITHUB_URL,
      subject: { repository: "acme/app", actor },
      cutoffMs: CUTOFF,
    });
    expect(githubPolicy.conditions.slice(1).map((condition) => [condition.key, condition.value])).toEqual([
      ["aws:PrincipalTag/Issuer", github.get("Issuer")],
      ["aws:PrincipalTag/Repository", github.get("Repository")],
      ["aws:PrincipalTag/Actor", github.get("Actor")],
    ]);
    expect(github.get("Actor")).toBe("dependabot=5Bbot=5D");

    const gitlab = await brokerTags("gitlab", gitlabClaims(), "https://gitlab.example");
    const gitlabPolicy = await buildDenyPolicy({
      kind: "gitlab",
      issuerUrl: "https://gitlab.example",
      subject: { repository: "acme/app", actor: "sample-user" },
      cutoffMs: CUTOFF,
    });
    expect(gitlabPolicy.conditions.slice(1).map((condition) => [condition.key, condition.value])).toEqual([
      ["aws:PrincipalTag/Issuer", gitlab.get("Issuer")],
      ["aws:PrincipalTag/Project", gitlab.get("Project")],
      ["aws:PrincipalTag/User", gitlab.get("User")],
    ]);
  });

  it("writes a character an IAM policy cannot hold as StringLike's ?, which matches more, never less", async () => {
    const policy = await buildDenyPolicy({
      kind: "github",
      issuerUrl: GITHUB_URL,
      subject: { actor: "octo日本" },
      cutoffMs: CUTOFF,
    });
    expect(policy.conditions.at(-1)).toEqual({
      operator: "StringLike",
      key: "aws:PrincipalTag/Actor",
      value: "octo??",
    });
    expect(policyGrammarProblem(policy.document)).toBeUndefined();
    expect(/^[\u0020-\u00FF]+$/.test(policy.document)).toBe(true);
  });

  it("refuses a subject the broker never tags (too long once escaped): no session can carry it", async () => {
    await expect(
      buildDenyPolicy({
        kind: "github",
        issuerUrl: GITHUB_URL,
        subject: { repository: `acme/${"!".repeat(100)}` },
        cutoffMs: CUTOFF,
      }),
    ).rejects.toBeInstanceOf(UntaggableSubjectError);
  });
});

describe("denyPolicyName", () => {
  const name = (issuerUrl: string, repository?: string, actor?: string) =>
    denyPolicyName({
      kind: "github",
      issuerUrl,
      subject: { ...(repository === undefined ? {} : { repository }), ...(actor === undefined ? {} : { actor }) },
    });

  it("is one fixed, IAM-valid name per issuer and subject: a rerun replaces its policy, two subjects never share one", async () => {
    const app = await name(GITHUB_URL, "acme/app");
    expect(app).toMatch(new RegExp(`^${REVOKE_POLICY_NAME_PREFIX}acme\\.app-[0-9a-f]{16}$`));
    expect(await name(GITHUB_URL, "Acme/App")).toMatch(/^ci-credential-broker-revoke-Acme\.App-/);
    expect((await name(GITHUB_URL, "Acme/App")).slice(-16)).toBe(app.slice(-16));
    const others = await Promise.all([
      name("https://ghes.example/_services/token", "acme/app"),
      name(GITHUB_URL, "acme/app2"),
      name(GITHUB_URL, "acme/app", "octocat"),
      name(GITHUB_URL, undefined, "octocat"),
    ]);
    expect(new Set([app, ...others]).size).toBe(5);
    const long = await name(GITHUB_URL, `${"a".repeat(200)}/${"b".repeat(50)}`, "x".repeat(200));
    expect(long.length).toBeLessThanOrEqual(128);
    for (const each of [app, ...others, long]) expect(each).toMatch(/^[\w+=,.@-]{1,128}$/);
  });
});

describe("cutoffs", () => {
  it("formats whole seconds, rounding up (a later cutoff only denies more)", () => {
    expect(formatCutoff(CUTOFF)).toBe("2026-11-25T12:01:19Z");
    expect(formatCutoff(CUTOFF + 1)).toBe("2026-11-25T12:01:20Z");
  });

  it("parses ISO 8601 with a zone, and nothing ambiguous", () => {
    expect(parseCutoff("2026-11-25T12:01:19Z")).toBe(CUTOFF);
    expect(parseCutoff("2026-11-25T13:01:19+01:00")).toBe(CUTOFF);
    for (const bad of ["2026-11-25T12:01:19", "2026-11-25", "yesterday", "2026-13-45T99:00:00Z"])
      expect(parseCutoff(bad), bad).toBeUndefined();
  });

  it("reads the cutoff back from an attached revocation, and nothing from another policy", async () => {
    const policy = await buildDenyPolicy({
      kind: "github",
      issuerUrl: GITHUB_URL,
      subject: { repository: "acme/app" },
      cutoffMs: CUTOFF,
    });
    expect(cutoffOf(policy.document)).toBe(CUTOFF);
    expect(cutoffOf(JSON.stringify(JSON.parse(policy.document), null, 2))).toBe(CUTOFF);
    expect(
      cutoffOf('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'),
    ).toBeUndefined();
    expect(cutoffOf("not json")).toBeUndefined();
  });

  it("counts characters as IAM does for its quotas, without white space", () => {
    expect(countedPolicyChars('{ "a" : [ 1, 2 ] }\n')).toBe('{"a":[1,2]}'.length);
  });
});
