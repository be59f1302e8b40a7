// The context stage's repository check (src/github/context.ts) on what a followed redirect can bring back: GitHub's
// 301 for a moved repository is followed by the client, so the answer for the token's `owner/name` may be another
// repository. The check compares the answered id with the token's `repository_id` claim; only the claim's wins.
import { describe, expect, it } from "vitest";
import type { ApiAnswer, GitHubClient } from "../../src/github/client.ts";
import { createGitHubContext, type ContextSubject } from "../../src/github/context.ts";
import type { CompiledRequirements } from "../../src/policy/requirements.ts";

const SUBJECT: ContextSubject = {
  apiUrl: "https://api.github.example",
  repository: "acme/app",
  repositoryId: "42",
  sha: "0123456789abcdef0123456789abcdef01234567",
  ref: "refs/heads/main",
  eventName: "push",
  runId: "1",
  workflowRef: "acme/app/.github/workflows/deploy.yml@refs/heads/main",
  baseRef: "",
};
const NOTHING_MORE: CompiledRequirements = { checks: [], pullRequest: undefined, rulesets: undefined };

/** A client whose GET /repos/acme/app answers as the followed 301 did: the repository with this id. */
function clientAnswering(id: number): GitHubClient & { paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    async get(_context, _repo, path): Promise<ApiAnswer> {
      paths.push(path);
      return { status: 200, body: { id, name: "app-renamed", full_name: "acme/app-renamed" }, headers: new Headers() };
    },
    async getPages() {
      throw new Error("not used");
    },
  };
}

describe("the repository check after a followed 301", () => {
  it("the moved repository is the token's (same id): met", async () => {
    const client = clientAnswering(42);
    const context = createGitHubContext({ client, now: () => 0, factCacheMs: 0 });
    const report = await context.evaluate(SUBJECT, NOTHING_MORE);
    expect(report.verdict).toEqual({ met: true, facts: ["repository id 42"] });
    expect(client.paths).toEqual(["/repos/acme/app"]);
  });

  it("the 301 led to another repository id: context_repository_mismatch, whatever its name", async () => {
    const context = createGitHubContext({ client: clientAnswering(31337), now: () => 0, factCacheMs: 0 });
    const report = await context.evaluate(SUBJECT, NOTHING_MORE);
    expect(report.verdict).toMatchObject({ met: false, reason: "context_repository_mismatch" });
  });
});
