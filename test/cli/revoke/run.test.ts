// `npm run revoke`'s core (src/cli/revoke/run.ts) driven as the operator runs it, against the fake IAM: print only,
// --apply on every role, reruns that replace, --remove, and each failure reported per role with a non-zero exit.
import { describe, expect, it } from "vitest";
import testPolicy from "../../fixtures/policies/index.ts";
import { runRevoke, type RevokeDeps } from "../../../src/cli/revoke/run.ts";
import type { IssuerSet } from "../../../src/cli/policy-run.ts";
import { REVOKE_CUTOFF_DELAY_MS } from "../../../src/cli/revoke/constants.ts";
import type { PolicyDefinition } from "../../../src/policy/types.ts";
import { createFakeIam, type FakeIam, type IamPrincipal } from "../../support/fake-iam.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const GITHUB_URL = "https://token.actions.githubusercontent.com";
const ACCOUNT = "111122223333";
const ROLES = ["acme-app-deploy", "acme-app-readonly", "acme-artifacts-publish"].map(
  (name) => `arn:aws:iam::${ACCOUNT}:role/${name}`,
);
const OPERATOR: IamPrincipal = {
  accessKeyId: "AKIAOPERATOR00000001",
  secretAccessKey: "operator-secret-key-000000000000000000000",
  account: ACCOUNT,
};
const TOP_LEVEL: IssuerSet = {
  name: "top level",
  issuers: [{ id: "github", kind: "github", issuer: GITHUB_URL }],
  stsAuth: "sigv4",
};

interface Setup {
  fake: FakeIam;
  run(argv: string[], overrides?: Partial<RevokeDeps>): ReturnType<typeof runRevoke>;
  clock: { now: number };
}

function setup(
  options: { principal?: IamPrincipal; roles?: string[]; policy?: PolicyDefinition; sets?: IssuerSet[] } = {},
): Setup {
  const clock = { now: NOW };
  const principal = options.principal ?? OPERATOR;
  const fake = createFakeIam({ now: () => clock.now, principals: [principal], roles: options.roles ?? ROLES });
  return {
    fake,
    clock,
    run: (argv, overrides = {}) =>
      runRevoke({
        argv,
        env: { AWS_ACCESS_KEY_ID: principal.accessKeyId, AWS_SECRET_ACCESS_KEY: principal.secretAccessKey },
        fetch: async (input, init) => fake.handler(new Request(input, init)),
        now: () => clock.now,
        sleep: async () => undefined,
        loadPolicy: async () => options.policy ?? testPolicy,
        issuerSets: { sets: options.sets ?? [TOP_LEVEL], problems: [] },
        ...overrides,
      }),
  };
}

const policiesOn = (fake: FakeIam, arn: string) => [...fake.inlinePolicies(arn).keys()];

describe("npm run revoke: print only", () => {
  it("prints the rules, the cutoff, the policy, the roles, the limits and the permissions, and touches nothing", async () => {
    const { fake, run } = setup();
    const result = await run(["--repository", "acme/app"]);
    expect(result.exitCode).toBe(0);
    expect(fake.requests).toEqual([]);
    const out = result.stdout;
    expect(out).toContain(
      "acme-release-publish            grants publish; matches on repository_owner acme (owner-wide)",
    );
    expect(out).toContain("issuer gitlab: not in ISSUERS of wrangler.toml (top level)");
    expect(out).toContain(`Cutoff 2026-11-25T12:01:19Z`);
    expect(out).toContain(`"aws:PrincipalTag/Repository": "acme/app"`);
    expect(out).toContain("up to 3600 s (maxDurationSeconds)");
    expect(out).toContain("chained into another role");
    expect(out).toContain("source identity (gh-<actor>)");
    expect(out).toContain(
      `${ACCOUNT}: iam:GetRole, iam:ListRolePolicies, iam:GetRolePolicy, iam:PutRolePolicy, iam:DeleteRolePolicy on`,
    );
    expect(out).toContain("npm run revoke -- --repository acme/app --apply");
    expect(out).toContain('eval "$(aws configure export-credentials --format env)"');
  });

  it("says so when no rule can grant the subject: nothing was ever issued to it", async () => {
    const { run } = setup();
    const result = await run(["--repository", "someone/else"]);
    expect([result.exitCode, result.stdout]).toEqual([
      0,
      expect.stringContaining("No rule of policies/index.ts can grant repository someone/else"),
    ]);
    expect((await run(["--repository", "someone/else", "--apply"])).exitCode).toBe(1);
  });

  it("refuses bad arguments with exit 2 and the usage", async () => {
    const { run } = setup();
    for (const argv of [
      [],
      ["--repository", "acme"],
      ["--repository", "acme/app", "--apply", "--remove"],
      ["--repository", "acme/app", "--cutoff", "soon"],
      ["--repository", "acme/app", "--issuer", "nope"],
      ["--repository", "acme/app", "--role", "arn:aws:iam::1:role/x"],
      ["--repository", "acme/app", "--iam-endpoint", "http://iam.example", "--apply"],
      ["--repository", "acme/app", "--env", "staging"],
    ]) {
      const result = await run(argv);
      expect(result.exitCode, argv.join(" ")).toBe(2);
      expect(result.stderr, argv.join(" ")).toMatch(/^revoke: /);
    }
  });
});

describe("npm run revoke --apply / --remove", () => {
  it("attaches one policy per role; a rerun replaces it (never a second copy) and keeps a later cutoff", async () => {
    const { fake, run, clock } = setup();
    const first = await run(["--repository", "acme/app", "--apply"]);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatch(
      /ok {6}arn:aws:iam::111122223333:role\/acme-app-deploy +ci-credential-broker-revoke-acme\.app-[0-9a-f]{16} attached \(inline policies now \d+ of 10240 characters\)/,
    );
    expect(first.stdout).toContain("3 of 3 roles done.");
    for (const arn of ROLES) expect(policiesOn(fake, arn)).toHaveLength(1);
    const name = policiesOn(fake, ROLES[0] as string)[0] as string;
    expect(
      JSON.parse(fake.inlinePolicies(ROLES[0] as string).get(name) as string).Statement[0].Condition.DateLessThan[
        "aws:TokenIssueTime"
      ],
    ).toBe("2026-11-25T12:01:19Z");

    clock.now += 60_000;
    const again = await run(["--repository", "acme/app", "--apply"]);
    expect(again.stdout).toContain("replaced (its cutoff was 2026-11-25T12:01:19Z)");
    for (const arn of ROLES) expect(policiesOn(fake, arn)).toEqual([name]);

    const earlier = await run(["--repository", "acme/app", "--apply", "--cutoff", "2026-11-25T11:00:00Z"]);
    expect(earlier.exitCode).toBe(0);
    expect(earlier.stdout).toContain("kept: it already has a later cutoff, 2026-11-25T12:02:19Z");
    expect(earlier.stdout).toContain("Earlier than the kill switch can have taken effect");
  });

  it("--remove deletes it, says how long the sessions it denied may still live, and is fine when it is gone already", async () => {
    const { fake, run } = setup();
    await run(["--repository", "acme/app", "--apply"]);
    const removed = await run(["--repository", "acme/app", "--remove"]);
    expect(removed.exitCode).toBe(0);
    expect(removed.stdout).toContain(
      `sessions it denied work again until they expire, at the latest 2026-11-25T13:01:19Z`,
    );
    for (const arn of ROLES) expect(policiesOn(fake, arn)).toEqual([]);
    const again = await run(["--repository", "acme/app", "--remove"]);
    expect([again.exitCode, again.stdout]).toEqual([0, expect.stringContaining("was not attached")]);
  });

  it("reports each role: a missing role fails alone, the rest are done, the exit is 1 and the output says how to rerun", async () => {
    const { fake, run } = setup({ roles: [ROLES[0] as string, ROLES[2] as string] });
    const result = await run(["--repository", "acme/app", "--apply"]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(
      /FAILED {2}arn:aws:iam::111122223333:role\/acme-app-readonly +NoSuchEntity: no role acme-app-readonly in the account of these credentials/,
    );
    expect(result.stdout).toContain("2 of 3 roles done, 1 FAILED. Fix the cause and run the same command again");
    expect(result.stdout).toContain("npm run revoke -- --repository acme/app --apply");
    expect(policiesOn(fake, ROLES[0] as string)).toHaveLength(1);
    expect(policiesOn(fake, ROLES[2] as string)).toHaveLength(1);
  });

  it("refuses, changing nothing on that role, when its inline policies would exceed IAM's 10,240 characters", async () => {
    const { fake, run } = setup();
    const big = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${"x".repeat(10_000)}` }],
    });
    fake.putInlinePolicy(ROLES[1] as string, "existing", big);
    const result = await run(["--repository", "acme/app", "--apply"]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(
      /FAILED {2}arn:aws:iam::111122223333:role\/acme-app-readonly +inline_policy_limit: the role's other inline policies count \d+ characters/,
    );
    expect(policiesOn(fake, ROLES[1] as string)).toEqual(["existing"]);
    expect(
      fake.requests.filter((request) => request.action === "PutRolePolicy" && request.roleName === "acme-app-readonly"),
    ).toEqual([]);
  });

  it("never writes to a same-named role of another account: credentials of the wrong account fail every role", async () => {
    const elsewhere: IamPrincipal = { ...OPERATOR, account: "999999999999" };
    const { fake, run } = setup({
      principal: elsewhere,
      roles: [...ROLES, "arn:aws:iam::999999999999:role/acme-app-deploy"],
    });
    const result = await run(["--repository", "acme/app", "--apply"]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(
      "wrong_account: these credentials reach arn:aws:iam::999999999999:role/acme-app-deploy, not this role: run with credentials for account 111122223333",
    );
    expect(policiesOn(fake, "arn:aws:iam::999999999999:role/acme-app-deploy")).toEqual([]);
    expect(fake.requests.some((request) => request.action === "PutRolePolicy")).toBe(false);
  });

  it("changes one account per run: roles in two accounts need --account, and the other account's command is printed", async () => {
    const policy: PolicyDefinition = {
      roles: { a: { arn: `arn:aws:iam::${ACCOUNT}:role/a` }, b: { arn: "arn:aws:iam::444455556666:role/ci/b" } },
      rules: [{ id: "r", match: { repository: "acme/app" }, roles: ["a", "b"] }],
    };
    const { fake, run } = setup({ policy, roles: [`arn:aws:iam::${ACCOUNT}:role/a`] });
    const refused = await run(["--repository", "acme/app", "--apply"]);
    expect([refused.exitCode, refused.stderr]).toEqual([
      2,
      expect.stringContaining("the roles are in 2 accounts (111122223333, 444455556666)"),
    ]);
    const printed = await run(["--repository", "acme/app"]);
    expect(printed.stdout).toContain("npm run revoke -- --repository acme/app --account 444455556666 --apply");
    const result = await run(["--repository", "acme/app", "--apply", "--account", ACCOUNT]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("not in this run (account 444455556666): arn:aws:iam::444455556666:role/ci/b");
    expect(policiesOn(fake, `arn:aws:iam::${ACCOUNT}:role/a`)).toHaveLength(1);
  });

  it("needs AWS credentials in the environment, and says how to get them from a profile", async () => {
    const { run } = setup();
    const result = await run(["--repository", "acme/app", "--apply"], { env: { AWS_PROFILE: "prod" } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      'AWS_PROFILE=prod is not read: export its credentials): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) for the account; from a profile: eval "$(aws configure export-credentials --format env)"',
    );
  });

  it("works the same in web-identity mode: the same tags, the same policy", async () => {
    const sigv4 = await setup().run(["--repository", "acme/app", "--cutoff", "2026-11-25T12:30:00Z"]);
    const webIdentity = await setup({ sets: [{ ...TOP_LEVEL, stsAuth: "web-identity" }] }).run([
      "--repository",
      "acme/app",
      "--cutoff",
      "2026-11-25T12:30:00Z",
    ]);
    expect(webIdentity.stdout).toContain("this deployment: web-identity");
    const document = (out: string) => out.slice(out.indexOf("Deny policy"), out.indexOf("Roles ("));
    expect(document(webIdentity.stdout)).toBe(document(sigv4.stdout));
  });

  it("defaults the cutoff to when the kill switch has taken effect everywhere", async () => {
    const { run } = setup();
    const out = (await run(["--repository", "acme/app"])).stdout;
    expect(out).toContain(`Cutoff ${new Date(NOW + REVOKE_CUTOFF_DELAY_MS).toISOString().replace(".000Z", "Z")}`);
    expect(out).toContain(`Default: now + ${REVOKE_CUTOFF_DELAY_MS / 1000} s`);
  });
});
