// `npm run policy:explain -- <claims.json | token file | -> [--role alias] [--issuer id] [--duration s] [--policy
// file]`:
// prints the decision for a decoded token payload (or a token, decoded without verifying: explain-input.ts), the rule
// that decided, and for every other rule why it did not apply. docs/policy.md "policy:explain".
import { readFileSync } from "node:fs";
import process from "node:process";
import { parseExplainInput } from "./explain-input.ts";
import { finish, loadPolicy, readIssuerSets } from "./policy-files.ts";
import type { OfflineFacts } from "../policy/offline-facts.ts";
import { parseExplainArgs, runPolicyExplain } from "./policy-explain-run.ts";
import type { CliResult } from "./policy-run.ts";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(): Promise<CliResult> {
  const args = parseExplainArgs(process.argv.slice(2));
  if (typeof args === "string") return { stdout: "", stderr: `${args}\n`, exitCode: 2 };
  let text: string;
  try {
    // `-` reads the payload or token from stdin, as a stream: readFileSync(0) fails with EAGAIN on a pipe whose writer
    // (`npm run -s token | ...`) has not written yet.
    text = args.claimsFile === "-" ? await readStdin() : readFileSync(args.claimsFile, "utf8");
  } catch (error) {
    return {
      stdout: "",
      stderr: `cannot read claims from ${args.claimsFile}: ${error instanceof Error ? error.message : String(error)}\n`,
      exitCode: 2,
    };
  }
  const input = parseExplainInput(text);
  if (typeof input === "string")
    return { stdout: "", stderr: `cannot read claims from ${args.claimsFile}: ${input}\n`, exitCode: 2 };
  let facts: OfflineFacts | undefined;
  if (args.factsFile !== undefined) {
    try {
      facts = JSON.parse(readFileSync(args.factsFile, "utf8")) as OfflineFacts;
    } catch (error) {
      return {
        stdout: "",
        stderr: `cannot read facts from ${args.factsFile}: ${error instanceof Error ? error.message : String(error)}\n`,
        exitCode: 2,
      };
    }
  }
  const { policy } = await loadPolicy(args.policyFile);
  return runPolicyExplain({
    policy,
    claims: input.claims,
    fromToken: input.fromToken,
    args,
    issuerSets: readIssuerSets().sets,
    ...(facts === undefined ? {} : { facts }),
  });
}

finish(await main());
