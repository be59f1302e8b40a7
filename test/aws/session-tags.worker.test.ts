// lossless session tags through the whole Worker. A claim that cannot be tagged losslessly is refused
// (403 forbidden, session_tag_unrepresentable) before admission; an awkward but representable one is escaped.
import { describe, expect, it } from "vitest";
import { createHarness, expectAudit, expectNoLeak } from "../support/broker-harness.ts";
import { githubClaims } from "../../sandbox/fakes/fake-issuer.ts";

const DOCS = {
  repository: "acme/docs",
  repository_id: "874563299",
  job_workflow_ref: "acme/docs/.github/workflows/ci.yml@refs/heads/main",
};

describe("session tags through the Worker", () => {
  it("a ref too long to tag losslessly: 403 forbidden, STS never called, the token not consumed", async () => {
    const h = await createHarness();
    const token = await h.mint(githubClaims({ ...DOCS, ref: `refs/heads/${"!".repeat(100)}` }));
    const response = await h.request(token);
    expect(response.status).toBe(403);
    expect((await expectNoLeak(response, ["session_tag_unrepresentable"])).error).toBe("forbidden");
    expectAudit(h, { outcome: "denied", code: "forbidden", reason: "session_tag_unrepresentable", status: 403 });
    expect(h.sts.requestCount).toBe(0);
    // Refused before admission: the same token is answered the same way, never token_reused.
    const again = await h.request(token);
    expect(((await again.json()) as { error: string }).error).toBe("forbidden");
  });

  it("refs/heads/release!2024 is issued with an escaped Ref tag, distinct from release_2024, and an Issuer tag", async () => {
    const h = await createHarness();
    expect((await h.request(await h.mint(githubClaims({ ...DOCS, ref: "refs/heads/release!2024" })))).status).toBe(200);
    expect((await h.request(await h.mint(githubClaims({ ...DOCS, ref: "refs/heads/release_2024" })))).status).toBe(200);
    const tags = h.sts.assumeRoleCalls.map((call) => Object.fromEntries(call.tags.map((tag) => [tag.key, tag.value])));
    expect(tags.map((t) => t.Ref)).toEqual(["refs/heads/release=212024", "refs/heads/release_2024"]);
    expect(tags[0]?.Issuer).toBe(h.issuer.issuer);
  });
});
