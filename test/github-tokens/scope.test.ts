// What a grant's token is asked with, and the check of GitHub's answer against it. Pure.
import { describe, expect, it } from "vitest";
import { accessTokenRequest, permissionList, widerThanAsked } from "../../src/github-tokens/scope.ts";
import type { GithubTokenGrant } from "../../src/policy/github-tokens.ts";

const grant: GithubTokenGrant = {
  name: "tap",
  owner: "acme",
  repositories: ["homebrew-tap", "Formulae"],
  permissions: { contents: "write", pull_requests: "read" },
  privileged: true,
  dangerousReason: undefined,
};
const asked = accessTokenRequest(grant);

describe("accessTokenRequest", () => {
  it("exactly the grant's repositories and permissions, plus metadata: read", () => {
    expect(asked).toEqual({
      repositories: ["homebrew-tap", "Formulae"],
      permissions: { contents: "write", pull_requests: "read", metadata: "read" },
    });
  });
});

describe("widerThanAsked", () => {
  const exact = {
    permissions: { contents: "write", pull_requests: "read", metadata: "read" },
    repositorySelection: "selected",
    repositories: ["homebrew-tap", "formulae"],
  };
  it.each([
    ["as asked (names compared without case)", exact, undefined],
    ["narrower (a permission left out)", { ...exact, permissions: { contents: "write", metadata: "read" } }, undefined],
    [
      "a permission not asked for",
      { ...exact, permissions: { ...exact.permissions, issues: "read" } },
      "permission issues not asked for",
    ],
    [
      "a level above the one asked",
      { ...exact, permissions: { ...exact.permissions, pull_requests: "write" } },
      "permission pull_requests: write above read",
    ],
    [
      "an unknown level",
      { ...exact, permissions: { ...exact.permissions, contents: "owner" } },
      "permission contents: owner above write",
    ],
    ["every repository", { ...exact, repositorySelection: "all" }, "every repository of the installation"],
    ["no selection said", { ...exact, repositorySelection: undefined }, "every repository of the installation"],
    ["repositories not listed", { ...exact, repositories: undefined }, "repositories not listed"],
    [
      "a repository not asked for",
      { ...exact, repositories: ["homebrew-tap", "secrets"] },
      "repository secrets not asked for",
    ],
  ])("%s", (_label, granted, reason) => {
    expect(widerThanAsked(asked, granted)).toBe(reason);
  });
});

it("permissionList: sorted name:level pairs", () => {
  expect(permissionList({ pull_requests: "write", contents: "read", metadata: "read" })).toBe(
    "contents:read,metadata:read,pull_requests:write",
  );
});
