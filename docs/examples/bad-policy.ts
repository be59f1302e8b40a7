// A policy with mistakes, for `npm run -s policy:check -- docs/examples/bad-policy.ts` (docs/policy.md).
import { definePolicy } from "../../src/policy/define.ts";

export default definePolicy({
  roles: {
    other: { arn: "arn:aws:iam::111122223333:role/acme-other" },
    deploy: { arn: "arn:aws:iam::111122223333:role/acme-app-deploy", privileged: true },
  },
  rules: [
    { id: "acme-all", match: { repository: "acme/*" }, roles: ["other"] },
    { id: "acme-app", match: { repository: "acme/app", ref: "refs/heads/main" }, roles: ["other"] },
    { id: "acme-app-deploy", match: { repository: "acme/app", ref: "refs/heads/main" }, roles: { other: "deploy" } },
  ],
});
