// A temporary view of the project with `policies/` replaced: every other top-level entry linked to the project's, or,
// for the ones named in `copy`, copied. The project's own tests use it to run the policy tools on the test policy
// (never the operator's policies/), and the adopter test to build and check another organisation's policy. Node only.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Never part of a view: git's state and wrangler's local state and build output belong to the project alone. */
const NOT_VIEWED = new Set([".git", ".wrangler", "dist", "policies"]);

export interface ProjectViewOptions {
  /** A directory to link as `policies/`, or the files to write there (path under policies/ -> text). */
  policies: string | Readonly<Record<string, string>>;
  /**
   * Entries to copy instead of link. A copied `src/` is needed wherever src/index.ts is bundled: a linked one
   * resolves `../policies/` from its real place, the project's own policies/.
   */
  copy?: readonly string[];
}

export interface ProjectView {
  root: string;
  remove(): void;
}

export function projectView(options: ProjectViewOptions): ProjectView {
  const root = mkdtempSync(join(tmpdir(), "ccb-project-view-"));
  const copied = new Set(options.copy ?? []);
  for (const entry of readdirSync(repoRoot)) {
    if (NOT_VIEWED.has(entry)) continue;
    if (copied.has(entry)) cpSync(join(repoRoot, entry), join(root, entry), { recursive: true });
    else symlinkSync(join(repoRoot, entry), join(root, entry));
  }
  if (typeof options.policies === "string") symlinkSync(options.policies, join(root, "policies"));
  else {
    for (const [path, text] of Object.entries(options.policies)) {
      mkdirSync(dirname(join(root, "policies", path)), { recursive: true });
      writeFileSync(join(root, "policies", path), text);
    }
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
