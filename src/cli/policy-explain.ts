// `npm run policy:explain -- <claims.json> [--role alias] [--issuer id] [--duration s] [--policy file]`: prints the
// decision for a decoded token payload, the rule that decided, and for every other rule why it did not apply.
import { readFileSync } from "node:fs";
import process from "node:process";
import { finish, loadPolicy, readIssuerSets } from "./policy-files.ts";
import type { OfflineFacts } from "../policy/offline-facts.ts";
import { parseExplainArgs, runPolicyExplain, type CliResult } from "./policy-run.ts";

async function main(): Promise<CliResult> {
  const args = parseExplainArgs(process.argv.slice(2));
  if (typeof args === "string") return { stdout: "", stderr: `${args}\n`, exitCode: 2 };
  let claims: unknown;
  try {
    // `-` reads the payload from stdin (file descriptor 0).
    claims = JSON.parse(readFileSync(args.claimsFile === "-" ? 0 : args.claimsFile, "utf8"));
  } catch (error) {
    return { stdout: "", stderr: `cannot read claims from ${args.claimsFile}: ${error instanceof Error ? error.message : String(error)}\n`, exitCode: 2 };
  }
  let facts: OfflineFacts | undefined;
  if (args.factsFile !== undefined) {
    try {
      facts = JSON.parse(readFileSync(args.factsFile, "utf8")) as OfflineFacts;
    } catch (error) {
      return { stdout: "", stderr: `cannot read facts from ${args.factsFile}: ${error instanceof Error ? error.message : String(error)}\n`, exitCode: 2 };
    }
  }
  const { policy } = await loadPolicy(args.policyFile);
  return runPolicyExplain({ policy, claims, args, issuerSets: readIssuerSets().sets, ...(facts === undefined ? {} : { facts }) });
}

finish(await main());
