// The organisation's policy, compiled into the Worker. Default deny: only what a rule grants is allowed.
// This is the example policy the local sandbox uses; replace the roles and rules with your own (README "Policy").
import { definePolicy } from "../src/policy/define.ts";

export default definePolicy({
  roles: {
    // Deploys from main. The role's trust policy should also require the session tags (README "AWS side").
    deploy: {
      arn: "arn:aws:iam::111122223333:role/acme-app-deploy",
      maxDurationSeconds: 3600,
      sessionTags: { Team: "platform" },
    },
    // Pull requests may read, never write: the session policy narrows the role further.
    readonly: {
      arn: "arn:aws:iam::111122223333:role/acme-app-readonly",
      sessionPolicy: {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "s3:ListBucket"], Resource: "*" }],
      },
    },
  },
  rules: [
    {
      id: "acme-app-main-deploy",
      match: { repository: "acme/app", ref: "refs/heads/main", event_name: ["push", "workflow_dispatch"] },
      roles: ["deploy"],
    },
    {
      id: "acme-app-pull-request-readonly",
      match: { repository: "acme/app", event_name: "pull_request" },
      roles: ["readonly"],
    },
  ],
});
