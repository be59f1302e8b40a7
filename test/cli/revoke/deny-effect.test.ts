// The revocation works on real sessions: the broker issues credentials through the STS emulator (which records each
// session's tags and issue time), `npm run revoke --apply` attaches its policy through the fake IAM, and AWS's
// evaluation of that policy (test/support/iam-policy.ts) must deny the sessions issued before the cutoff for that
// subject, and only those. A tag key or value that drifted from what the broker sets would fail here.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import testPolicy from "../../fixtures/policies/index.ts";
import type { IssuerSet } from "../../../src/cli/policy-run.ts";
import { runRevoke } from "../../../src/cli/revoke/run.ts";
import { REVOKE_CUTOFF_DELAY_MS } from "../../../src/cli/revoke/constants.ts";
import { IssuerListSchema } from "../../../src/oidc/issuers.ts";
import type { PolicyDefinition } from "../../../src/policy/types.ts";
import { createHarness, type Harness, type HarnessOptions } from "../../support/broker-harness.ts";
import { createFakeIam, type FakeIam, type IamPrincipal } from "../../support/fake-iam.ts";
import { evaluateIdentityPolicy, sessionContextKeys } from "../../support/iam-policy.ts";
import { generateSigningKeySecret } from "../../support/signing-keys.ts";
import type { AssumeRoleCall } from "../../support/sts-emulator.ts";

const OPERATORS: IamPrincipal[] = ["111122223333", "444455556666"].map((account) => ({
  accessKeyId: `AKIAOPERATOR${account.slice(0, 8)}`,
  secretAccessKey: `secret-of-${account}-000000000000000000`,
  account,
}));

interface Scene {
  h: Harness;
  iam: FakeIam;
  /** Credentials from the broker: the STS session they are (its role, tags and issue time). */
  issue(claims?: Record<string, unknown>, issuer?: string): Promise<AssumeRoleCall>;
  revoke(...argv: string[]): Promise<{ exitCode: number; stdout: string }>;
  /** AWS's answer for any action the session tries, with the role's inline policies as they are now. */
  denied(session: AssumeRoleCall): boolean;
}

async function scene(options: HarnessOptions & { policy?: PolicyDefinition } = {}): Promise<Scene> {
  const h = await createHarness(options);
  const policy = options.policy ?? testPolicy;
  const iam = createFakeIam({
    now: h.now,
    principals: OPERATORS,
    roles: [...new Set(Object.values(policy.roles).map((role) => role.arn))],
  });
  const issuers = IssuerListSchema.parse(JSON.parse(String(h.env.ISSUERS))).map(({ id, kind, issuer }) => ({
    id,
    kind,
    issuer,
  }));
  const set: IssuerSet = {
    name: "top level",
    issuers,
    stsAuth: options.webIdentity === undefined ? "sigv4" : "web-identity",
  };
  return {
    h,
    iam,
    async issue(claims = {}, issuer) {
      const before = h.sts.assumeRoleCalls.length;
      const response = await h.request(issuer === undefined ? await h.mint(claims) : await h.mintFor(issuer, claims));
      expect(response.status, await response.clone().text()).toBe(200);
      expect(h.sts.assumeRoleCalls).toHaveLength(before + 1);
      return h.sts.assumeRoleCalls[before] as AssumeRoleCall;
    },
    async revoke(...argv) {
      const account = argv.includes("--account") ? argv[argv.indexOf("--account") + 1] : "111122223333";
      const operator = OPERATORS.find((entry) => entry.account === account) as IamPrincipal;
      const result = await runRevoke({
        argv: [...argv, "--apply"],
        env: { AWS_ACCESS_KEY_ID: operator.accessKeyId, AWS_SECRET_ACCESS_KEY: operator.secretAccessKey },
        fetch: async (input, init) => iam.handler(new Request(input, init)),
        now: h.now,
        sleep: async () => undefined,
        loadPolicy: async () => policy,
        issuerSets: { sets: [set], problems: [] },
      });
      expect(result.exitCode, result.stdout + result.stderr).toBe(0);
      return result;
    },
    denied(session) {
      const context = {
        action: "s3:PutObject",
        resource: "arn:aws:s3:::acme-artifacts/release.tgz",
        keys: sessionContextKeys(session),
      };
      return [...iam.inlinePolicies(session.roleArn).values()].some(
        (document) => evaluateIdentityPolicy(document, context) === "Deny",
      );
    },
  };
}

/** Past the default cutoff of a revocation run now. */
const AFTER_CUTOFF_MS = REVOKE_CUTOFF_DELAY_MS + 1_000;
const DOCS = {
  repository: "acme/docs",
  repository_id: "874563299",
  job_workflow_ref: "acme/docs/.github/workflows/ci.yml@refs/heads/main",
  event_name: "pull_request",
  ref: "refs/pull/7/merge",
};

describe("a revocation denies the broker's sessions issued before the cutoff, for its subject only", () => {
  it("sigv4: every role the policy grants acme/app denies its earlier sessions; later ones and other repositories' work", async () => {
    const s = await scene();
    const deploy = await s.issue();
    const pullRequest = await s.issue({ event_name: "pull_request", ref: "refs/pull/1/merge" });
    const docs = await s.issue(DOCS);
    expect([deploy.roleArn, pullRequest.roleArn, docs.roleArn]).toEqual([
      "arn:aws:iam::111122223333:role/acme-app-deploy",
      "arn:aws:iam::111122223333:role/acme-app-readonly",
      "arn:aws:iam::111122223333:role/acme-app-readonly",
    ]);

    await s.revoke("--repository", "acme/app");
    expect(s.denied(deploy)).toBe(true);
    expect(s.denied(pullRequest)).toBe(true);
    expect(s.denied(docs)).toBe(false);

    // Until the cutoff (the kill switch's propagation time) a new session is denied too; after it, one works again.
    expect(s.denied(await s.issue())).toBe(true);
    s.h.advance(AFTER_CUTOFF_MS);
    expect(s.denied(await s.issue())).toBe(false);
  });

  it("web-identity: the tags AWS reads from the broker's token meet the same policy", async () => {
    const s = await scene({ webIdentity: { signingKey: await generateSigningKeySecret("ES256") } });
    const deploy = await s.issue();
    expect(deploy.action).toBe("AssumeRoleWithWebIdentity");
    const docs = await s.issue(DOCS);
    await s.revoke("--repository", "acme/app");
    expect(s.denied(deploy)).toBe(true);
    expect(s.denied(docs)).toBe(false);
    s.h.advance(AFTER_CUTOFF_MS);
    expect(s.denied(await s.issue())).toBe(false);
  });

  it("names compare as GitHub compares them, without case; an actor's sessions are denied by their escaped tag", async () => {
    const s = await scene();
    const bot = await s.issue({ actor: "dependabot[bot]", actor_id: "49699333" });
    const octocat = await s.issue();
    await s.revoke("--repository", "Acme/App", "--actor", "Dependabot[bot]");
    expect(bot.tags.find((tag) => tag.key === "Actor")?.value).toBe("dependabot=5Bbot=5D");
    expect(s.denied(bot)).toBe(true);
    expect(s.denied(octocat)).toBe(false);
  });

  it("keeps GHES and github.com repositories of the same name apart by the Issuer tag", async () => {
    const deploy = { arn: "arn:aws:iam::111122223333:role/acme-app-deploy" };
    const policy: PolicyDefinition = {
      issuers: { github: "github", ghes: "github" },
      roles: { deploy },
      rules: [
        { id: "dotcom", match: { repository: "acme/app" }, roles: ["deploy"] },
        { id: "enterprise", issuer: "ghes", match: { repository: "acme/app" }, roles: ["deploy"] },
      ],
    };
    const s = await scene({ policy, issuers: [{ id: "ghes", kind: "github", path: "/_services/token" }] });
    const dotcom = await s.issue();
    const enterprise = await s.issue({}, "ghes");
    await s.revoke("--repository", "acme/app", "--issuer", "github");
    expect(s.denied(dotcom)).toBe(true);
    expect(s.denied(enterprise)).toBe(false);
    await s.revoke("--repository", "acme/app", "--issuer", "ghes");
    expect(s.denied(enterprise)).toBe(true);
    expect(s.iam.inlinePolicies(deploy.arn).size).toBe(2);
  });

  it("GitLab: the Project tag of a GitLab session meets the GitLab issuer's policy; a role in another account needs its own run", async () => {
    const s = await scene({ issuers: [{ id: "gitlab", kind: "gitlab" }] });
    const gitlab = await s.issue({}, "gitlab");
    expect(gitlab.tags.some((tag) => tag.key === "Project" && tag.value === "acme/app")).toBe(true);
    const { stdout } = await s.revoke("--repository", "acme/app", "--issuer", "gitlab");
    expect(stdout).toContain("issuer github: left out (--issuer)");
    expect(s.denied(gitlab)).toBe(true);

    const infra = await s.issue({ repository: "acme/infra", repository_id: "874563300", environment: "production" });
    expect(infra.roleArn).toBe("arn:aws:iam::444455556666:role/ci/infra-deploy");
    await s.revoke("--repository", "acme/infra", "--account", "444455556666");
    expect(s.denied(infra)).toBe(true);
    expect(env.AWS_ACCESS_KEY_ID).not.toBe(OPERATORS[0]?.accessKeyId);
  });
});
