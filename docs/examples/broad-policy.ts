// A policy that trusts too much, for `npm run -s policy:check -- docs/examples/broad-policy.ts` (docs/policy.md).
import { definePolicy } from "../../src/policy/define.ts";

export default definePolicy({
  roles: { readonly: { arn: "arn:aws:iam::111122223333:role/acme-readonly" } },
  rules: [{ id: "everyone", match: { repository: "*/*" }, roles: ["readonly"] }],
});
