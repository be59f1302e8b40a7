// `npm run revoke -- --repository OWNER/NAME [--apply | --remove] …`: the Node entry. Reads argv, the environment,
// the policy file and wrangler.toml, hands them to the platform-neutral core (revoke/run.ts) with the real fetch,
// clock and sleep, prints, and sets the exit code. docs/operations.md, "Incident: a repository's credentials are
// compromised".
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { finish, loadPolicy, readIssuerSets } from "./policy-files.ts";
import { runRevoke } from "./revoke/run.ts";

finish(
  await runRevoke({
    argv: process.argv.slice(2),
    env: process.env,
    fetch: (input, init) => fetch(input, init),
    now: Date.now,
    sleep: async (ms) => {
      await sleep(ms);
    },
    loadPolicy: async (file) => (await loadPolicy(file)).policy,
    issuerSets: readIssuerSets(),
  }),
);
