// `npm run smoke -- --broker <url> --audience <aud> ...`: the Node entry of the post-deploy smoke test (smoke-run.ts).
import process from "node:process";
import { runSmoke } from "./smoke-run.ts";

const result = await runSmoke(process.argv.slice(2), {
  fetch: (input, init) => fetch(input, init),
  env: (name) => process.env[name],
  now: Date.now,
});
if (result.stdout !== "") process.stdout.write(result.stdout);
if (result.stderr !== "") process.stderr.write(result.stderr);
process.exitCode = result.exitCode;
