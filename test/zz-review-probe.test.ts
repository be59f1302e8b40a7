// TEMPORARY review probe: deleted after the review.
import { describe, expect, it } from "vitest";
import { definePolicy } from "../src/policy/define.ts";
import { createHarness } from "./support/broker-harness.ts";

const ROLE = "arn:aws:iam::111122223333:role/acme-deploy";

describe("review probes", () => {
  it("P1: environment glob satisfies guard_unprotected_ref from an unprotected branch", async () => {
    const policy = definePolicy({
      roles: { deploy: { arn: ROLE, privileged: true } },
      rules: [{ id: "infra-prod", match: { repository: "acme/app", repository_id: "874563210", environment: "prod*" }, roles: ["deploy"] }],
    });
    const h = await createHarness({ policy });
    const token = await h.mint({ ref: "refs/heads/attacker-branch", ref_protected: "false", environment: "prod-made-up-by-attacker" });
    const res = await h.request(token);
    console.log("P1 status", res.status, JSON.stringify(h.events().at(-1)));
    expect(res.status).toBe(200);
  });

  it("P1b: same with exact environment name on unprotected branch (control)", async () => {
    const policy = definePolicy({
      roles: { deploy: { arn: ROLE, privileged: true } },
      rules: [{ id: "infra-prod", match: { repository: "acme/app", repository_id: "874563210", environment: "production" }, roles: ["deploy"] }],
    });
    const h = await createHarness({ policy });
    const token = await h.mint({ ref: "refs/heads/attacker-branch", ref_protected: "false", environment: "prod-made-up-by-attacker" });
    const res = await h.request(token);
    console.log("P1b status", res.status);
  });

  it("P2: deny rule written in lower case does not catch canonical-case repository", async () => {
    const policy = definePolicy({
      roles: { ro: { arn: ROLE } },
      rules: [
        { id: "deny-legacy", effect: "deny", match: { repository: "acme/legacy-*" } },
        { id: "org", match: { repository_owner_id: "51234567" }, roles: ["ro"] },
      ],
    });
    const h = await createHarness({ policy });
    const token = await h.mint({ repository: "Acme/legacy-billing", repository_owner: "Acme" });
    const res = await h.request(token);
    console.log("P2 status", res.status, JSON.stringify(h.events().at(-1)));
  });

  it("P3: crit b64=true header is accepted (README says crit is forbidden)", async () => {
    const h = await createHarness();
    const token = await h.mint({}, { header: { crit: ["b64"], b64: true } });
    const res = await h.request(token);
    console.log("P3 status", res.status, JSON.stringify(h.events().at(-1)?.reason));
  });

  it("P4: concurrent replay of one token", async () => {
    const h = await createHarness();
    const token = await h.mint();
    const results = await Promise.all(Array.from({ length: 8 }, () => h.request(token)));
    console.log("P4 statuses", results.map((r) => r.status).join(","));
  });
});
