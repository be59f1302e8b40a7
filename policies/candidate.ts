// The candidate policy for shadow mode (var SHADOW_POLICY = "on"): decided beside policies/index.ts on every request,
// differences logged as `policy_shadow`, the answer always the live policy's. Promote it by copying it over index.ts.
// Usually a full copy of index.ts with the change under review; this example derives from it to stay short.
import { definePolicy } from "../src/policy/define.ts";
import live from "./index.ts";

export default definePolicy({
  ...live,
  rules: live.rules.map((rule) =>
    // Proposed change: acme/app may also deploy from release branches (protected ones: deploy is privileged).
    rule.id === "acme-app-main-deploy"
      ? { ...rule, match: { ...rule.match, ref: ["refs/heads/main", "refs/heads/release/*"] } }
      : rule,
  ),
});
