// The policy decision benchmark: `decide` over a 1,000-rule policy, timed call by call in Node, target
// p50 <= 20 µs. Pure CPU: no Worker, no network. `node test/bench/policy-bench.ts` prints human lines, then ONE JSON
// line (the last); bench.ts may import `measurePolicyDecision` and put `policy_decision` in its own JSON line.
//
// The policy is shaped like a large organisation's: 40 owners; 800 rules pinning one repository (name and id) by
// branch and event, half granting a privileged role; 160 rules by glob (`org-N/team-M-*`) on release branches; 30
// GitLab rules; 10 deny rules, two of them unindexable globs. Tokens cycle through allows, denials by guard, by
// deny rule, and misses, for both issuers.
import { fileURLToPath } from "node:url";
import { compilePolicy } from "../../src/policy/compile.ts";
import { decide, type DecisionInput } from "../../src/policy/decide.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { percentile, round } from "./stats.ts";

/** The acceptance figure. */
export const POLICY_DECISION_P50_TARGET_US = 20;

export interface PolicyBenchResult {
  rules: number;
  compile_ms: number;
  decisions: number;
  p50_us: number;
  p99_us: number;
  mean_us: number;
  allowed_fraction: number;
  target_p50_us: number;
  pass: boolean;
}

const OWNERS = 40;

export function buildLargePolicy(): PolicyDefinition {
  const roles = {
    deploy: { arn: "arn:aws:iam::111122223333:role/deploy", privileged: true, maxDurationSeconds: 3600 },
    readonly: { arn: "arn:aws:iam::111122223333:role/readonly" },
    release: { arn: "arn:aws:iam::111122223333:role/release", privileged: true },
  };
  const rules: PolicyDefinition["rules"][number][] = [
    { id: "deny-legacy", effect: "deny", match: { repository: "**/legacy-*" } },
    { id: "deny-forks-of-archive", effect: "deny", match: { repository: "*/archive" } },
    ...Array.from({ length: 8 }, (_, i) => ({
      id: `deny-actor-${i}`,
      effect: "deny" as const,
      match: { actor_id: String(900_000 + i) },
    })),
  ];
  for (let i = 0; i < 800; i++) {
    const owner = `org-${i % OWNERS}`;
    rules.push({
      id: `repo-${i}`,
      match: {
        repository: `${owner}/svc-${i}`,
        repository_id: String(100_000 + i),
        ref: ["refs/heads/main", "refs/heads/prod"],
        event_name: ["push", "workflow_dispatch"],
      },
      roles: i % 2 === 0 ? ["deploy"] : ["readonly"],
    });
  }
  for (let i = 0; i < 160; i++) {
    const owner = `org-${i % OWNERS}`;
    rules.push({
      id: `team-${i}`,
      match: {
        repository: `${owner}/team-${i}-*`,
        repository_owner_id: String(500 + (i % OWNERS)),
        ref: "refs/heads/release/*",
      },
      roles: ["release"],
    });
  }
  for (let i = 0; i < 30; i++) {
    rules.push({
      id: `gitlab-${i}`,
      issuer: "gitlab",
      match: { project_path: `group-${i % 5}/project-${i}`, project_id: String(7_000 + i), ref: "main" },
      roles: ["deploy"],
    });
  }
  return { issuers: { github: "github", gitlab: "gitlab" }, roles, rules };
}

/** A realistic mix of tokens: each decision picks the next one. */
export function buildTokens(count = 1_000): DecisionInput[] {
  const tokens: DecisionInput[] = [];
  for (let n = 0; n < count; n++) {
    const i = (n * 7) % 800;
    const owner = `org-${i % OWNERS}`;
    const base: Record<string, unknown> = {
      sub: `repo:${owner}/svc-${i}:ref:refs/heads/main`,
      repository: `${owner}/svc-${i}`,
      repository_id: String(100_000 + i),
      repository_owner: owner,
      repository_owner_id: String(500 + (i % OWNERS)),
      ref: "refs/heads/main",
      ref_protected: "true",
      event_name: "push",
      actor: "octocat",
      actor_id: "583231",
      runner_environment: "github-hosted",
    };
    let claims = base;
    let issuerId = "github";
    switch (n % 10) {
      case 6: // a glob rule on a release branch
        claims = {
          ...base,
          repository: `org-${i % OWNERS}/team-${i % 160}-api`,
          repository_owner_id: String(500 + ((i % 160) % OWNERS)),
          ref: "refs/heads/release/7",
        };
        break;
      case 5: // denied by a deny rule
        claims = { ...base, actor_id: "900003" };
        break;
      case 7: {
        // blocked by a guard: a privileged (even) repository from an unprotected ref
        const even = i - (i % 2);
        claims = {
          ...base,
          repository: `org-${even % OWNERS}/svc-${even}`,
          repository_id: String(100_000 + even),
          ref_protected: "false",
        };
        break;
      }
      case 8: // a miss: unknown repository
        claims = { ...base, repository: `${owner}/unknown-${i}` };
        break;
      case 9:
        issuerId = "gitlab";
        claims = {
          project_path: `group-${i % 5}/project-${i % 30}`,
          project_id: String(7_000 + (i % 30)),
          ref: "main",
          ref_protected: "true",
          runner_environment: "gitlab-hosted",
          pipeline_source: "push",
        };
        break;
      default: // the common case: an allowed push
        break;
    }
    tokens.push({ issuerId, claims: Object.freeze(claims), role: undefined, durationSeconds: undefined });
  }
  return tokens;
}

/** Times `decisions` calls of decide() one by one (process.hrtime.bigint; the timer's own cost is included). */
export function measurePolicyDecision(options: { decisions?: number; warmup?: number } = {}): PolicyBenchResult {
  const decisions = options.decisions ?? 200_000;
  const warmup = options.warmup ?? 50_000;
  const definition = buildLargePolicy();
  const compileStarted = process.hrtime.bigint();
  const policy = compilePolicy(definition);
  const compileNs = Number(process.hrtime.bigint() - compileStarted);
  const tokens = buildTokens();

  let allowed = 0;
  for (let n = 0; n < warmup; n++) decide(policy, tokens[n % tokens.length] as DecisionInput);
  const samples = new Float64Array(decisions);
  for (let n = 0; n < decisions; n++) {
    const token = tokens[n % tokens.length] as DecisionInput;
    const started = process.hrtime.bigint();
    const decision = decide(policy, token);
    samples[n] = Number(process.hrtime.bigint() - started) / 1000;
    if (decision.allowed) allowed++;
  }
  samples.sort();
  let total = 0;
  for (const sample of samples) total += sample;
  const p50 = percentile(samples, 50);
  return {
    rules: definition.rules.length,
    compile_ms: round(compileNs / 1e6, 1),
    decisions,
    p50_us: round(p50, 2),
    p99_us: round(percentile(samples, 99), 2),
    mean_us: round(total / decisions, 2),
    allowed_fraction: round(allowed / decisions, 2),
    target_p50_us: POLICY_DECISION_P50_TARGET_US,
    pass: p50 <= POLICY_DECISION_P50_TARGET_US,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes("--quick");
  const result = measurePolicyDecision(quick ? { decisions: 20_000, warmup: 5_000 } : {});
  console.log(
    `policy decision: ${result.rules} rules (compiled in ${result.compile_ms} ms), ${result.decisions} decisions, ${Math.round(result.allowed_fraction * 100)}% allowed`,
  );
  console.log(
    `  p50 ${result.p50_us} µs, p99 ${result.p99_us} µs, mean ${result.mean_us} µs (target p50 <= ${result.target_p50_us} µs): ${result.pass ? "PASS" : "FAIL"}`,
  );
  console.log(JSON.stringify({ policy_decision: result, env: { node: process.version }, pass: result.pass }));
}
