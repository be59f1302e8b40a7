// Which policy `npm start` runs, loaded and compiled in Node as the broker compiles it, and the examples it offers
// from it (policy-examples.ts). The Worker entry decides: wrangler.toml's `main` (src/index.ts) compiles the operator's
// policies/index.ts; another entry (SANDBOX_WORKER_ENTRY, e.g. test/fixtures/worker.ts) compiles the policies/index.ts
// beside it. I/O: the file system and dynamic import.
import { existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { readIssuerSets, loadPolicy } from "../src/cli/policy-files.ts";
import { compilePolicy, PolicyCompileError, type CompiledPolicy } from "../src/policy/compile.ts";
import { deriveSandboxExamples, type SandboxExamples } from "./policy-examples.ts";

/**
 * The policy module the sandbox broker compiles, relative to the project: the convention every sandbox entry follows.
 */
export function sandboxPolicyFile(entry: string | undefined): string {
  return entry === undefined ? join("policies", "index.ts") : join(dirname(entry), "policies", "index.ts");
}

export interface SandboxPolicy {
  /** As shown to the user, relative to the project. */
  file: string;
  examples: SandboxExamples;
}

/**
 * The examples for the sandbox issuer (the wrangler.toml [env.sandbox] ISSUERS entry whose `issuer` is
 * `sandbox.issuerUrl`) of the policy `entry` runs. `base`: the issuer's default claims. Never throws for a policy
 * problem: the
 * examples then say why there are none (the broker itself answers config_invalid for a policy that does not compile).
 * `sandbox.stsAuth`: the mode this start runs in (a role with `externalId` compiles in sigv4 mode only).
 */
export async function loadSandboxPolicy(
  root: string,
  entry: string | undefined,
  sandbox: { issuerUrl: string; stsAuth: "sigv4" | "web-identity" },
  base: Readonly<Record<string, unknown>>,
): Promise<SandboxPolicy> {
  const file = sandboxPolicyFile(entry === undefined ? undefined : relative(root, resolve(root, entry)));
  const none = (unavailable: string): SandboxPolicy => ({
    file,
    examples: {
      defaultClaims: {},
      granted: undefined,
      other: undefined,
      denied: undefined,
      facts: undefined,
      unavailable,
    },
  });
  if (!existsSync(join(root, file))) return none(`there is no ${file} (the policy a sandbox Worker entry compiles)`);
  const issuers =
    readIssuerSets(join(root, "wrangler.toml")).sets.find((set) => set.name === "env.sandbox")?.issuers ?? [];
  const issuer = issuers.find((candidate) => candidate.issuer === sandbox.issuerUrl);
  if (issuer === undefined)
    return none(`wrangler.toml [env.sandbox] ISSUERS has no entry for the sandbox issuer ${sandbox.issuerUrl}`);
  let compiled: CompiledPolicy;
  try {
    compiled = compilePolicy((await loadPolicy(join(root, file))).policy, { issuers, stsAuth: sandbox.stsAuth });
  } catch (error) {
    if (error instanceof PolicyCompileError)
      return none(
        `${file} does not compile (${error.code} at ${error.location}); \`npm run policy:check\` lists every problem`,
      );
    return none(
      `${file} could not be loaded (${(error instanceof Error ? error.message : String(error)).split("\n")[0]})`,
    );
  }
  return { file, examples: deriveSandboxExamples(compiled, issuer.id, base) };
}
