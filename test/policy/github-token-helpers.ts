// What the GitHub token grant tests share: grants of acme's tap and library, the app repository's claims, a grant
// compiled into a policy (or its compile error), and a github-token decision input.
import type { GithubTokenDefinition } from "../../src/policy/types.ts";

export const TAP: GithubTokenDefinition = {
  owner: "acme",
  repositories: ["homebrew-tap"],
  permissions: { contents: "write", pull_requests: "write" },
};

export const LIB: GithubTokenDefinition = {
  owner: "acme",
  repositories: ["private-lib"],
  permissions: { contents: "read" },
};

export const APP = { repository: "acme/app", repository_id: "874563210" };
