// A tagged release: a privileged `publish` role for acme/app's release.yml on protected v* tags, for
// `npm run -s policy:check -- docs/examples/tag-release-policy.ts` and its fixtures (docs/policy.md "Tagged releases").
import { definePolicy } from "../../src/policy/define.ts";

export default definePolicy({
  roles: {
    // Privileged: granted only for a protected ref (a tag ruleset) and a trusted event, never for refs/pull/*.
    publish: { arn: "arn:aws:iam::111122223333:role/acme-app-publish", maxDurationSeconds: 3600, privileged: true },
  },
  rules: [
    {
      id: "acme-app-release-publish",
      description: "acme/app publishes when a v* tag is pushed, from its release workflow only.",
      match: {
        repository: "acme/app",
        repository_id: "874563210",
        event_name: "push",
        ref: "refs/tags/v*",
        ref_type: "tag",
        // The caller's own workflow file may be globbed (here: the tag); job_workflow_ref never may.
        workflow_ref: "acme/app/.github/workflows/release.yml@refs/tags/v*",
      },
      roles: ["publish"],
    },
  ],
});
