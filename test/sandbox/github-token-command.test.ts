// `npm run -s sandbox -- github-token ...` (docs/github-tokens.md "Sandbox"): against a broker configured as the
// sandbox is, a grant is shown with what its token reaches and its revocation; a denial shows the broker's answer.
import { describe, expect, it } from "vitest";
import testPolicy from "../fixtures/policies/index.ts";
import { compilePolicy } from "../../src/policy/compile.ts";
import { createHarness } from "../support/broker-harness.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { applyGitHubCommand } from "../../sandbox/github-command.ts";
import { demonstrateGrant, parseClaims } from "../../sandbox/github-token-command.ts";
import { deriveSandboxExamples, type SandboxFacts } from "../../sandbox/policy-examples.ts";

/** The facts the sandbox derives from the test policy (the `github` commands act on them). */
const { jti: _jti, ...base } = githubClaims();
const facts = deriveSandboxExamples(compilePolicy(testPolicy), "github", base).facts as SandboxFacts;

describe("sandbox github-token command", () => {
  it("a grant: the token reaches its repository, not another, and is refused once revoked", async () => {
    const h = await createHarness();
    const claims = parseClaims(["--claim", "ref=refs/tags/v1.0.0", "--claim", "ref_type=tag"]);
    const result = await demonstrateGrant(
      "homebrew-tap",
      () => h.mint(claims),
      (path, init) => h.fetch(new Request(`https://broker.example${path}`, init)),
      h.network.fetch,
    );
    expect(result.granted).toBe(true);
    const text = result.lines.join("\n");
    expect(text).toMatch(/POST \/v1\/github-token homebrew-tap: 200 token ghs_\S{4}…/);
    expect(text).toMatch(/\/repos\/acme\/homebrew-tap: 200\n/);
    expect(text).toMatch(/\/repos\/acme\/app: 404 \(not granted\)/);
    expect(text).toMatch(/installation\/token: 204/);
    expect(text).toMatch(/\/repos\/acme\/homebrew-tap: 401 \(after revocation\)/);
    // Never the whole token.
    expect(text).not.toContain(h.github.tokenAppTokens[0]?.token);
  });

  it("a denial (a branch, not a tag) and a wider answer: the broker's error, nothing minted for the caller", async () => {
    const h = await createHarness();
    const denied = await demonstrateGrant(
      "homebrew-tap",
      () => h.mint(),
      (path, init) => h.fetch(new Request(`https://broker.example${path}`, init)),
      h.network.fetch,
    );
    expect(denied.granted).toBe(false);
    expect(denied.lines[0]).toMatch(/: 403 \{"error":"forbidden"/);
    applyGitHubCommand(h.github, facts, ["widen", "on"]);
    const claims = parseClaims(["--claim", "ref=refs/tags/v1.0.0", "--claim", "ref_type=tag"]);
    const wide = await demonstrateGrant(
      "homebrew-tap",
      () => h.mint(claims),
      (path, init) => h.fetch(new Request(`https://broker.example${path}`, init)),
      h.network.fetch,
    );
    expect(wide.lines[0]).toMatch(/: 503 \{"error":"upstream_unavailable"/);
  });

  it("claims must be --claim name=value", () => {
    expect(() => parseClaims(["ref=refs/tags/v1"])).toThrow(/expected github-token/);
  });
});
