// `npm run analytics -- <query> ...`: the Node entry. Reads argv and the environment, hands them to the
// platform-neutral core (analytics-run.ts) with the real fetch and clock, prints, and sets the exit code.
import process from "node:process";
import { runAnalyticsCli } from "./analytics-run.ts";

const result = await runAnalyticsCli({
  argv: process.argv.slice(2),
  env: process.env,
  fetch: (input, init) => fetch(input, init),
  now: Date.now,
});
if (result.stdout !== "") process.stdout.write(result.stdout);
if (result.stderr !== "") process.stderr.write(result.stderr);
process.exitCode = result.exitCode;
