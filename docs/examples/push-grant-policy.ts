// A grant that can start privileged workflows, for `npm run -s policy:check -- docs/examples/push-grant-policy.ts`
// (docs/github-tokens.md): acme/app may push to acme/homebrew-tap, whose own pushes to main deploy.
import { definePolicy } from "../../src/policy/define.ts";

export default definePolicy({
  roles: { deploy: { arn: "arn:aws:iam::111122223333:role/tap-deploy", privileged: true } },
  githubTokens: {
    "homebrew-tap": { owner: "acme", repositories: ["homebrew-tap"], permissions: { contents: "write" } },
  },
  rules: [
    {
      id: "app-release-tap",
      match: { repository: "acme/app", repository_id: "874563210", ref: "refs/tags/v*", event_name: "push" },
      githubTokens: ["homebrew-tap"],
    },
    {
      id: "tap-deploy",
      match: { repository: "acme/homebrew-tap", repository_id: "874563400", ref: "refs/heads/main" },
      roles: ["deploy"],
    },
  ],
});
