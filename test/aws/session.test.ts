import { describe, expect, it } from "vitest";
import { BROKER_SESSION_TAG_KEYS, buildAssumeRoleInput, tagValue, type SessionClaims } from "../../src/aws/session.ts";
import { STS_MAX_SESSION_TAGS, STS_MAX_TAG_VALUE_CHARS } from "../../src/aws/constants.ts";
import { BrokerError } from "../../src/errors.ts";
import { brokerFailure } from "../support/broker-failure.ts";
import { seededText } from "../support/seeded-text.ts";
import type { RoleGrant } from "../../src/aws/session.ts";

const NAME = /^[\w+=,.@-]{2,64}$/;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const claims: SessionClaims = {
  repository: "octo-org/app",
  repository_id: "123456",
  repository_owner: "octo-org",
  repository_owner_id: "654321",
  ref: "refs/heads/main",
  sha: "0123456789abcdef0123456789abcdef01234567",
  workflow: "Deploy",
  event_name: "push",
  actor: "octocat",
  actor_id: "42",
  run_id: "9876543210",
  run_attempt: "1",
};

function grant(overrides: Partial<RoleGrant> = {}): RoleGrant {
  return {
    alias: "deploy",
    arn: "arn:aws:iam::123456789012:role/deploy",
    maxDurationSeconds: 3600,
    sessionPolicyJson: undefined,
    sessionTags: [],
    ...overrides,
  };
}

const GITHUB_COM = { id: "github", kind: "github" as const, issuer: "https://token.actions.githubusercontent.com" };
/** The token's SHA-256 prefix, as the exchange passes it (the audit event's token_sha256). */
const TOKEN_SHA256 = "0123456789abcdef";

function build(c: SessionClaims = claims, g: RoleGrant = grant(), durationSeconds = 900, tokenSha256 = TOKEN_SHA256) {
  return buildAssumeRoleInput({ issuer: GITHUB_COM, claims: c, grant: g, durationSeconds, tokenSha256 });
}

/** UTF-16 length and code-point length both within `max`, and no lone surrogate. */
function expectWithin(value: string, max: number) {
  expect(value.length).toBeLessThanOrEqual(max);
  expect([...value].length).toBeLessThanOrEqual(max);
  expect(/[\uD800-\uDFFF]/u.test(value)).toBe(false);
}

describe("buildAssumeRoleInput: ordinary claims", () => {
  it("names the session, the source identity and the tags from the claims", async () => {
    const input = await build(claims, grant({ sessionPolicyJson: '{"Version":"2012-10-17","Statement":[]}' }), 1800);
    expect(input).toEqual({
      roleArn: "arn:aws:iam::123456789012:role/deploy",
      roleSessionName: `gh-9876543210-1-${TOKEN_SHA256}-octo-org.app`,
      durationSeconds: 1800,
      sourceIdentity: "gh-octocat",
      tags: [
        { key: "Repository", value: "octo-org/app" },
        { key: "RepositoryId", value: "123456" },
        { key: "RepositoryOwner", value: "octo-org" },
        { key: "RepositoryOwnerId", value: "654321" },
        { key: "Ref", value: "refs/heads/main" },
        { key: "Sha", value: "0123456789abcdef0123456789abcdef01234567" },
        { key: "Workflow", value: "Deploy" },
        { key: "EventName", value: "push" },
        { key: "Actor", value: "octocat" },
        { key: "ActorId", value: "42" },
        { key: "RunId", value: "9876543210" },
        { key: "RunAttempt", value: "1" },
        { key: "Issuer", value: "https://token.actions.githubusercontent.com" },
      ],
      transitiveTagKeys: [
        "Repository",
        "RepositoryId",
        "RepositoryOwner",
        "RepositoryOwnerId",
        "Ref",
        "Sha",
        "Workflow",
        "EventName",
        "Actor",
        "ActorId",
        "RunId",
        "RunAttempt",
        "Issuer",
      ],
      sessionPolicy: '{"Version":"2012-10-17","Statement":[]}',
      policyArns: [],
      externalId: undefined,
    });
  });

  it("adds the optional claim tags only when present and non-empty", async () => {
    const full = await build({
      ...claims,
      environment: "prod",
      job_workflow_ref: "octo-org/app/.github/workflows/d.yml@refs/heads/main",
      runner_environment: "github-hosted",
    });
    expect(full.tags.slice(-4)).toEqual([
      { key: "Environment", value: "prod" },
      { key: "JobWorkflowRef", value: "octo-org/app/.github/workflows/d.yml@refs/heads/main" },
      { key: "RunnerEnvironment", value: "github-hosted" },
      { key: "Issuer", value: "https://token.actions.githubusercontent.com" },
    ]);
    expect(full.transitiveTagKeys).toEqual(full.tags.map((tag) => tag.key));
    const empty = await build({ ...claims, environment: "", job_workflow_ref: undefined });
    expect(empty.tags.map((tag) => tag.key)).not.toContain("Environment");
    expect(empty.tags.map((tag) => tag.key)).not.toContain("JobWorkflowRef");
  });

  it("is deterministic", async () => {
    expect(await build()).toEqual(await build());
  });

  it("keeps the broker's tag keys within STS's key rules", async () => {
    for (const key of BROKER_SESSION_TAG_KEYS) expect(key).toMatch(/^[A-Za-z]{1,128}$/);
    expect(new Set(BROKER_SESSION_TAG_KEYS.map((key) => key.toLowerCase())).size).toBe(BROKER_SESSION_TAG_KEYS.length);
  });
});

describe("buildAssumeRoleInput: hostile claims", () => {
  const hostile: Array<[string, string]> = [
    ["empty", ""],
    ["one char", "x"],
    ["200 ascii chars", "a".repeat(200)],
    ["200 emoji", "🚀".repeat(200)],
    ["200 astral letters", "𝐀".repeat(200)],
    ["reserved prefix", "aws:evil"],
    ["AWS prefix upper", "AWS:evil"],
    ["path traversal", "../../etc/passwd"],
    ["bidi override", "abc\u202Edef"],
    ["NUL and controls", "a\u0000b\u0007c\nd\re\tf"],
    ["line separators", "a\u2028b\u2029c"],
    ["lone surrogates", "a\uD800b\uDC00c"],
    ["combining marks", "e\u0301\u0301\u0301"],
    ["markup", "<script>alert(1)</script>&amp;"],
    ["spaces", "  spaced  out  "],
    ["all punctuation", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"],
    ["zero-width joiner", "a\u200Db\uFEFF"],
  ];

  /** The input, or the refusal: a value that cannot be tagged losslessly is refused (403), never rewritten. */
  async function buildOrRefuse(c: SessionClaims) {
    try {
      return await build(c);
    } catch (error) {
      expect(error).toBeInstanceOf(BrokerError);
      expect({ code: (error as BrokerError).code, reason: (error as BrokerError).reason }).toEqual({
        code: "forbidden",
        reason: "session_tag_unrepresentable",
      });
      return undefined;
    }
  }

  it.each(hostile)(
    "%s: name, source identity and tags stay within STS's rules, or the request is refused",
    async (_label, value) => {
      const everything: SessionClaims = Object.fromEntries(
        [...Object.keys(claims), "environment", "job_workflow_ref", "runner_environment"].map((key) => [key, value]),
      ) as unknown as SessionClaims;
      const input = await buildOrRefuse(everything);
      if (input === undefined) return;
      expect(input.roleSessionName).toMatch(NAME);
      expect(input.sourceIdentity).toMatch(NAME);
      expect(input.sourceIdentity.toLowerCase().startsWith("aws:")).toBe(false);
      expect(input.tags.length).toBeLessThanOrEqual(STS_MAX_SESSION_TAGS);
      for (const tag of input.tags) {
        expect(tag.value).toMatch(TAG_CHARS);
        expect(tag.value).not.toMatch(/[\u2028\u2029]/);
        expectWithin(tag.value, STS_MAX_TAG_VALUE_CHARS);
      }
    },
  );

  it.each([
    ["200 emoji", "🚀".repeat(200)],
    ["lone surrogates", "a\uD800b\uDC00c"],
    ["257 ascii chars", "a".repeat(257)],
    ["86 punctuation characters (258 escaped)", "!".repeat(86)],
  ])("%s: refused as session_tag_unrepresentable", async (_label, value) => {
    expect(await buildOrRefuse({ ...claims, ref: value })).toBeUndefined();
  });

  it("survives non-string claim values at runtime", async () => {
    const broken = { ...claims, actor: 42, run_id: null, repository: ["a"] } as unknown as SessionClaims;
    const input = await build(broken);
    expect(input.roleSessionName).toMatch(NAME);
    expect(input.sourceIdentity).toBe("gh-");
    expect(input.tags.find((tag) => tag.key === "Actor")?.value).toBe("");
  });

  it("holds the invariants over many random strings, and never maps two values to one tag", async () => {
    // A seeded generator over a pool of awkward code points: reproducible, no Math.random.
    const pool = [
      "a",
      "Z",
      "9",
      "_",
      "-",
      "/",
      ":",
      "@",
      " ",
      "=",
      "é",
      "日",
      "🚀",
      "𝐀",
      "\u0301",
      "\u202E",
      "\u0000",
      "\u2028",
      "*",
      "&",
      "<",
    ];
    const text = seededText(0x2545f491, pool, 120);
    const seen = new Map<string, string>();
    for (let round = 0; round < 300; round++) {
      const ref = text();
      const input = await buildOrRefuse({
        ...claims,
        actor: text(),
        run_id: text(),
        run_attempt: text(),
        repository: text(),
        workflow: text(),
        environment: text(),
        ref,
      });
      if (input === undefined) continue;
      expect(input.roleSessionName).toMatch(NAME);
      expect(input.sourceIdentity).toMatch(NAME);
      for (const tag of input.tags) {
        expect(tag.value).toMatch(TAG_CHARS);
        expectWithin(tag.value, STS_MAX_TAG_VALUE_CHARS);
      }
      const tagged = input.tags.find((tag) => tag.key === "Ref")?.value as string;
      if (seen.has(tagged)) expect(seen.get(tagged)).toBe(ref);
      seen.set(tagged, ref);
    }
  });

  it("cuts only the repository slug of a long session name: the run, the attempt and the token hash stay whole", async () => {
    const input = await build({ ...claims, repository: `octo-org/${"r".repeat(100)}` });
    expect(input.roleSessionName).toHaveLength(64);
    expect(input.roleSessionName.startsWith(`gh-9876543210-1-${TOKEN_SHA256}-octo-org.rrr`)).toBe(true);
    // Even when the ids themselves are too long, the hash is kept.
    const huge = await build({ ...claims, run_id: "9".repeat(100) });
    expect(huge.roleSessionName).toHaveLength(64);
    expect(huge.roleSessionName).toContain(`-${TOKEN_SHA256}`);
  });

  it("sanitises bot actors", async () => {
    expect((await build({ ...claims, actor: "dependabot[bot]" })).sourceIdentity).toBe("gh-dependabot_bot_");
  });
});

describe("tagValue: lossless", () => {
  it.each([
    ["refs/heads/feature/x-1", "refs/heads/feature/x-1"],
    ["user@example.com", "user@example.com"],
    ["a+b:c", "a+b:c"],
    ["Deploy to prod", "Deploy to prod"],
    ["日本語のワークフロー", "日本語のワークフロー"],
    ["café", "café"],
    ["a=b", "a=3Db"],
    ["e\u0301", "e=CC=81"],
    ["a*b#c", "a=2Ab=23c"],
    ["dependabot[bot]", "dependabot=5Bbot=5D"],
    ["🚀 launch", "=F0=9F=9A=80 launch"],
    ["line\nbreak", "line=0Abreak"],
    ["a\u2028b", "a=E2=80=A8b"],
    ["\u202Egnp.exe", "=E2=80=AEgnp.exe"],
    ["", ""],
  ])("%j -> %j", async (input, expected) => {
    expect(tagValue(input)).toBe(expected);
  });

  it("the issue's pair: refs/heads/release!2024 and refs/heads/release_2024 get different Ref tags", async () => {
    const ref = async (value: string) =>
      (await build({ ...claims, ref: value })).tags.find((tag) => tag.key === "Ref")?.value;
    expect(await ref("refs/heads/release!2024")).toBe("refs/heads/release=212024");
    expect(await ref("refs/heads/release_2024")).toBe("refs/heads/release_2024");
    // The escape character itself is escaped, so a literal "=21" cannot pose as an escaped "!".
    expect(await ref("refs/heads/release=212024")).toBe("refs/heads/release=3D212024");
  });

  it("refuses (undefined) rather than cut: 256 characters fit, 257 do not; escapes count", async () => {
    expect(tagValue("a".repeat(256))).toBe("a".repeat(256));
    expect(tagValue("a".repeat(257))).toBeUndefined();
    expect(tagValue("𝐀".repeat(128))).toBe("𝐀".repeat(128));
    expect(tagValue("𝐀".repeat(129))).toBeUndefined();
    expect(tagValue(`${"a".repeat(253)}!`)).toBe(`${"a".repeat(253)}=21`);
    expect(tagValue(`${"a".repeat(254)}!`)).toBeUndefined();
  });
});

describe("session identity per issuer", () => {
  const issuers = {
    dotCom: GITHUB_COM,
    slug: {
      id: "acme-enterprise",
      kind: "github" as const,
      issuer: "https://token.actions.githubusercontent.com/acme",
    },
    ghes: { id: "ghes", kind: "github" as const, issuer: "https://github.acme.example/_services/token" },
    ghes2: { id: "ghes-eu", kind: "github" as const, issuer: "https://github.eu.acme.example/_services/token" },
  };
  const of = (issuer: (typeof issuers)[keyof typeof issuers]) =>
    buildAssumeRoleInput({ issuer, claims, grant: grant(), durationSeconds: 900, tokenSha256: TOKEN_SHA256 });

  it("github.com and its enterprise-slug issuers share gh- (one account namespace); each GHES gets ghe.<id>.", async () => {
    expect(await of(issuers.dotCom)).toMatchObject({
      sourceIdentity: "gh-octocat",
      roleSessionName: `gh-9876543210-1-${TOKEN_SHA256}-octo-org.app`,
    });
    expect((await of(issuers.slug)).sourceIdentity).toBe("gh-octocat");
    expect(await of(issuers.ghes)).toMatchObject({
      sourceIdentity: "ghe.ghes.octocat",
      roleSessionName: `ghe.ghes.9876543210-1-${TOKEN_SHA256}-octo-org.app`,
    });
    expect((await of(issuers.ghes2)).sourceIdentity).toBe("ghe.ghes-eu.octocat");
    // The loopback sandbox issuer (npm start) stands in for github.com.
    expect((await of({ id: "github", kind: "github", issuer: "http://127.0.0.1:8788" })).sourceIdentity).toBe(
      "gh-octocat",
    );
  });

  it("the same login on two issuers never yields the same source identity, and the Issuer tag tells them apart", async () => {
    const identities = await Promise.all(
      Object.values(issuers)
        .filter((issuer) => issuer !== issuers.slug)
        .map(async (issuer) => (await of(issuer)).sourceIdentity),
    );
    expect(new Set(identities).size).toBe(identities.length);
    expect((await of(issuers.ghes)).tags.find((tag) => tag.key === "Issuer")?.value).toBe(
      "https://github.acme.example/_services/token",
    );
  });
});

describe("buildAssumeRoleInput: operator tags", () => {
  it("appends operator tags after the claim tags, not transitive", async () => {
    const input = await build(
      claims,
      grant({
        sessionTags: [
          ["Team", "platform"],
          ["CostCenter", "42"],
        ],
      }),
    );
    expect(input.tags.slice(-2)).toEqual([
      { key: "Team", value: "platform" },
      { key: "CostCenter", value: "42" },
    ]);
    expect(input.transitiveTagKeys).not.toContain("Team");
  });

  it.each<[string, Array<[string, string]>]>([
    ["same key as ours", [["Repository", "x"]]],
    ["ours in another case", [["repositoryID", "x"]]],
    ["optional key of ours", [["Environment", "x"]]],
    ["aws: prefix", [["aws:PrincipalTag", "x"]]],
    ["AWS: prefix", [["AWS:foo", "x"]]],
    [
      "two operator keys differing in case",
      [
        ["Team", "a"],
        ["team", "b"],
      ],
    ],
  ])("refuses %s as session_tag_conflict", async (_label, sessionTags) => {
    const error = await brokerFailure(build(claims, grant({ sessionTags })));
    expect(error.code).toBe("config_invalid");
    expect(error.reason).toBe("session_tag_conflict");
  });

  it.each<[string, [string, string]]>([
    ["empty key", ["", "x"]],
    ["bad key char", ["bad*key", "x"]],
    ["key too long", ["k".repeat(129), "x"]],
    ["bad value char", ["Team", "a#b"]],
    ["value too long", ["Team", "v".repeat(257)]],
  ])("refuses %s as session_tag_invalid", async (_label, tag) => {
    const error = await brokerFailure(build(claims, grant({ sessionTags: [tag] })));
    expect(error.code).toBe("config_invalid");
    expect(error.reason).toBe("session_tag_invalid");
  });

  it("allows exactly STS_MAX_SESSION_TAGS tags and refuses one more", async () => {
    const ours = (await build()).tags.length;
    const operator = (count: number) => Array.from({ length: count }, (_, i) => [`Op${i}`, "v"] as [string, string]);
    expect((await build(claims, grant({ sessionTags: operator(STS_MAX_SESSION_TAGS - ours) }))).tags).toHaveLength(
      STS_MAX_SESSION_TAGS,
    );
    const error = await brokerFailure(build(claims, grant({ sessionTags: operator(STS_MAX_SESSION_TAGS - ours + 1) })));
    expect(error.code).toBe("config_invalid");
    expect(error.reason).toBe("session_tag_limit");
  });
});

describe("buildAssumeRoleInput: duration and policy", () => {
  it.each([899, 900.5, 3601, 43_201, Number.NaN])("refuses duration %s as internal_error", async (duration) => {
    const error = await brokerFailure(build(claims, grant({ maxDurationSeconds: 3600 }), duration));
    expect(error.code).toBe("internal_error");
    expect(error.reason).toBe("duration_out_of_range");
  });

  it("accepts the role's maximum", async () => {
    expect((await build(claims, grant({ maxDurationSeconds: 3600 }), 3600)).durationSeconds).toBe(3600);
  });

  it("refuses a session policy over 2048 characters", async () => {
    const error = await brokerFailure(build(claims, grant({ sessionPolicyJson: `{"a":"${"x".repeat(2048)}"}` })));
    expect(error.code).toBe("config_invalid");
    expect(error.reason).toBe("session_policy_too_long");
  });
});
