// `npm run policy:check [-- <policy.ts>...]`: compiles and lints every policy in policies/ (the live one, a shadow
// candidate, any other), also against each wrangler.toml environment's ISSUERS. Exit 1 on any error.
import process from "node:process";
import { finish, loadPolicy, POLICY_DIR, readIssuerSets, tsFilesIn } from "./policy-files.ts";
import { runPolicyCheck } from "./policy-run.ts";

const files = process.argv.length > 2 ? process.argv.slice(2) : tsFilesIn(POLICY_DIR);
const { sets, problems } = readIssuerSets();
const result = runPolicyCheck(
  await Promise.all(files.map(loadPolicy)),
  sets,
  problems.map((problem) => `error: ${problem}`),
);
finish(problems.length > 0 ? { ...result, exitCode: 1 } : result);
