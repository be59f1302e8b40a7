// Shared by the GitHub token exchange tests: tokens for the fixture policy's grants and what a denial must not say.
import { expect } from "vitest";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";
import { expectNoLeak, type Harness } from "../support/broker-harness.ts";

/** A push of release tag v1.2.3 of acme/app (protected): homebrew-tap's rule. */
export const releaseTag = (overrides: Record<string, unknown> = {}) =>
  githubClaims({ ref: "refs/tags/v1.2.3", ref_type: "tag", sub: "repo:acme/app:ref:refs/tags/v1.2.3", ...overrides });

/** Words a denial's body must never hold: grant names, repositories, permissions. */
export const GRANT_WORDS = ["homebrew", "private-lib", "private-deps", "contents", "pull_requests", "write", "ghs_"];

/** 403 forbidden with the reason in the audit event, nothing minted, nothing leaked. */
export async function expectGrantDenied(h: Harness, response: Response, reason: string): Promise<void> {
  expect(response.status).toBe(403);
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(await expectNoLeak(response, GRANT_WORDS)).toMatchObject({ error: "forbidden" });
  expect(h.events().at(-1)).toMatchObject({ kind: "github_token", outcome: "denied", code: "forbidden", reason });
  expect(h.github.tokenAppTokens).toHaveLength(0);
}

export async function sha256Prefix(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, 16);
}
