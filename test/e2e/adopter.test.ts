// An organisation adopting the broker replaces policies/ with its own: no shadow candidate, its own fixtures, nothing
// of
// acme. In a view of the project with such a policies/ (and a copy of src/), the build (wrangler deploy --dry-run), the
// type check of src/ and the policy, `policy:check`, `policy:test` and the sandbox preflight `npm test` runs pass; and
// the project's own tests never import policies/, so the rest of `npm test` cannot depend on what it holds. The places
// that read policies/ on purpose run the operator's tools, not imports: the build (test/e2e/deploy.test.ts bundles the
// deployable Worker), `npm run preflight` and `npm start` (sandbox/policy-source.ts). Runs in Node, offline,
// without the sandbox ports.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectView, repoRoot, type ProjectView } from "./project-view.ts";

const run = promisify(execFile);

/**
 * Initech's policy: its own issuer defaults, roles and rules, written against the project's API as an adopter would.
 */
const POLICY = `import { definePolicy } from "../src/policy/define.ts";

export default definePolicy({
  roles: {
    deploy: { arn: "arn:aws:iam::999988887777:role/initech-billing-deploy", privileged: true },
    read: { arn: "arn:aws:iam::999988887777:role/initech-read" },
  },
  rules: [
    {
      id: "initech-billing-production",
      match: { repository: "initech/billing", repository_id: "7700001", environment: "production", event_name: "push" },
      roles: ["deploy"],
    },
    { id: "initech-read", match: { repository_owner: "initech", repository_owner_id: "7700000" }, roles: ["read"] },
  ],
});
`;

const FIXTURES = `import { defineFixtures } from "../../src/policy/fixtures.ts";
import policy from "../index.ts";

export default defineFixtures({
  policy,
  defaults: {
    github: {
      sub: "repo:initech/billing:environment:production",
      repository: "initech/billing",
      repository_id: "7700001",
      repository_owner: "initech",
      repository_owner_id: "7700000",
      repository_visibility: "internal",
      ref: "refs/heads/trunk",
      ref_type: "branch",
      ref_protected: "false",
      environment: "production",
      sha: "0d1f2e3c4b5a69788796a5b4c3d2e1f0a9b8c7d6",
      workflow: "Deploy",
      workflow_ref: "initech/billing/.github/workflows/deploy.yml@refs/heads/trunk",
      job_workflow_ref: "initech/billing/.github/workflows/deploy.yml@refs/heads/trunk",
      event_name: "push",
      actor: "peter",
      actor_id: "7700100",
      run_id: "1",
      run_number: "1",
      run_attempt: "1",
      runner_environment: "github-hosted",
    },
  },
  cases: [
    { name: "the production environment deploys", role: "deploy", expect: { allow: "deploy", rule: "initech-billing-production" } },
    { name: "any initech repository reads", claims: { environment: undefined, sub: "repo:initech/billing:ref:refs/heads/trunk" }, expect: { allow: "read" } },
    { name: "no environment, no deploy", role: "deploy", claims: { environment: undefined }, expect: { deny: "role_not_granted" } },
    { name: "another owner", claims: { repository_owner: "initrode", repository_owner_id: "1", repository: "initrode/billing", repository_id: "2" }, expect: { deny: "no_matching_rule" } },
  ],
});
`;

/**
 * Relative module specifiers a TypeScript file imports: static, side-effect and dynamic imports, and `export ... from`.
 */
function relativeImports(text: string): string[] {
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["'`](\.{1,2}\/[^"'`]+)["'`]/g)].map(
    ([, specifier = ""]) => specifier,
  );
  // A template literal's placeholder (src/index.ts's optional candidate) stands for any file name there.
  return specifiers.map((specifier) => specifier.replace(/\$\{[^}]*\}/g, ""));
}

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((entry) => join(dir, entry))
    .filter((path) => path.endsWith(".ts") && statSync(path).isFile());
}

/** Every file the roots import, directly or not, through relative specifiers (package imports never reach policies/). */
function importClosure(roots: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.endsWith(".ts")) continue;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue; // an optional module (the shadow candidate) that does not exist
    }
    for (const specifier of relativeImports(text)) pending.push(resolve(dirname(file), specifier));
  }
  return seen;
}

/** `npm test`'s preflight step as package.json runs it: the arguments after `npm run -s` (none when it is not found). */
function preflightArgs(): string[] {
  const scripts = (
    JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }
  ).scripts;
  return /npm run -s (preflight -- --env sandbox [^&]*?) &&/.exec(scripts.test ?? "")?.[1]?.split(" ") ?? [];
}
const PREFLIGHT_ARGS = preflightArgs();

describe("an adopter's own policies/", () => {
  let view: ProjectView;
  type Output = Promise<{ stdout: string; stderr: string }>;
  let results: { build: Output; typecheck: Output; check: Output; test: Output; preflight: Output };

  beforeAll(() => {
    view = projectView({ policies: { "index.ts": POLICY, "tests/billing.fixtures.ts": FIXTURES }, copy: ["src"] });
    // The type check `npm test` runs, on what the adopter changed: src/ (the Worker's entry without a candidate) and policies/.
    writeFileSync(
      join(view.root, "tsconfig.adopter.json"),
      JSON.stringify({
        extends: "./tsconfig.json",
        include: ["src", "policies"],
        files: [],
        exclude: ["src/cli", "src/client"],
      }),
    );
    const npm = (...args: string[]) => run("npm", args, { cwd: view.root, env: { ...process.env, FORCE_COLOR: "0" } });
    // Started together: each is a separate process, and the slowest (the build) bounds the test.
    results = {
      build: npm("run", "build"),
      typecheck: run(join(repoRoot, "node_modules/.bin/tsc"), ["-p", "tsconfig.adopter.json"], { cwd: view.root }),
      check: npm("run", "-s", "policy:check"),
      test: npm("run", "-s", "policy:test"),
      preflight: npm("run", "-s", ...PREFLIGHT_ARGS),
    };
    for (const result of Object.values(results)) result.catch(() => undefined);
  });

  afterAll(() => view.remove());

  it("builds the Worker (wrangler deploy --dry-run) without a shadow candidate", async () => {
    const { stdout } = await results.build;
    expect(stdout).toMatch(/--dry-run: exiting now/);
    const bundle = readFileSync(join(view.root, "dist/index.js"), "utf8");
    expect(bundle).toContain("initech-billing-production");
    expect(bundle).not.toContain("acme-app-main-deploy");
  });

  it("type-checks src/ with the adopter's policy", async () => {
    await expect(results.typecheck).resolves.toBeDefined();
  });

  it("passes policy:check and policy:test on the adopter's policy and fixtures", async () => {
    expect((await results.check).stdout).toContain(
      "policies/index.ts: ok (2 rules, 2 roles, issuers github)\npolicy:check: 1 policy, 0 error(s)",
    );
    expect((await results.test).stdout).toBe(
      "policies/tests/billing.fixtures.ts: 4/4 passed\npolicy:test: 4 passed, 0 failed\n",
    );
  });

  it("passes npm test's preflight of the sandbox environment", async () => {
    expect(PREFLIGHT_ARGS.slice(0, 4)).toEqual(["preflight", "--", "--env", "sandbox"]);
    await expect(results.preflight).resolves.toBeDefined();
  });
});

describe("the project's own tests", () => {
  it("never import policies/, directly or through what they import", () => {
    const roots = [...tsFilesUnder(join(repoRoot, "test")), join(repoRoot, "vitest.config.ts")];
    const policies = join(repoRoot, "policies");
    const reached = [...importClosure(roots)].filter((file) => !relative(policies, file).startsWith(".."));
    expect(reached.map((file) => relative(repoRoot, file))).toEqual([]);
  });
});
