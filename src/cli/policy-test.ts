// `npm run policy:test [-- [--verbose] <x.fixtures.ts>...]`: runs the fixtures in policies/tests/ (claims + requested
// role ->
// expected decision and reason), as `opa test` does for Rego. Exit 1 when any case fails.
import process from "node:process";
import { finish, FIXTURE_DIR, FIXTURE_SUFFIX, loadFixtures, tsFilesIn } from "./policy-files.ts";
import { runPolicyTest } from "./policy-run.ts";

const args = process.argv.slice(2);
const verbose = args.includes("--verbose");
const named = args.filter((arg) => arg !== "--verbose");
const files = named.length > 0 ? named : tsFilesIn(FIXTURE_DIR, FIXTURE_SUFFIX);
finish(runPolicyTest(await Promise.all(files.map(loadFixtures)), { verbose }));
