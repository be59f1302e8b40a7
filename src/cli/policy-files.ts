// Node side of the policy tools: finds policy and fixture files, imports them, reads wrangler.toml's ISSUERS.
// I/O: the file system and dynamic import (Node runs the policies' TypeScript by type stripping).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import type { FixtureSuite } from "../policy/fixtures.ts";
import type { PolicyDefinition } from "../policy/types.ts";
import { issuerSetsFromWranglerToml, type CliResult, type IssuerSet, type LoadedPolicy } from "./policy-run.ts";

/** Where policies live, relative to the working directory (npm runs scripts from the package root). */
export const POLICY_DIR = "policies";
export const FIXTURE_DIR = path.join(POLICY_DIR, "tests");
export const FIXTURE_SUFFIX = ".fixtures.ts";

/** `.ts` files directly in `dir`, sorted: the live policy (index.ts), a candidate, any other. */
export function tsFilesIn(dir: string, suffix = ".ts"): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix) && !entry.name.endsWith(".d.ts"))
    .map((entry) => path.join(dir, entry.name))
    .sort();
}

async function importDefault(file: string): Promise<unknown> {
  const module = (await import(pathToFileURL(path.resolve(file)).href)) as { default?: unknown };
  if (module.default === undefined) throw new Error(`${file} has no default export`);
  return module.default;
}

export async function loadPolicy(file: string): Promise<LoadedPolicy> {
  return { file, policy: (await importDefault(file)) as PolicyDefinition };
}

export async function loadFixtures(file: string): Promise<{ file: string; suite: FixtureSuite }> {
  return { file, suite: (await importDefault(file)) as FixtureSuite };
}

/** ISSUERS of every environment in ./wrangler.toml (none when the file is absent). */
export function readIssuerSets(file = "wrangler.toml"): { sets: IssuerSet[]; problems: string[] } {
  if (!existsSync(file)) return { sets: [], problems: [] };
  return issuerSetsFromWranglerToml(readFileSync(file, "utf8"));
}

export function finish(result: CliResult): void {
  if (result.stdout !== "") process.stdout.write(result.stdout);
  if (result.stderr !== "") process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
}
