// Session identity through the whole Worker: SourceIdentity is never cut (two long logins never share one), and
// RoleSessionName is distinct for every job of a run, in both STS modes; the STS emulator holds both to AWS's rules.
import { describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../support/broker-harness.ts";
import { generateSigningKeySecret } from "../../sandbox/fakes/signing-keys.ts";

const NAME = /^[\w+=,.@-]{2,64}$/;
const SHARED_64 = `octo-${"a".repeat(59)}`;

const modes = {
  sigv4: () => createHarness(),
  "web-identity": async () =>
    createHarness({ webIdentity: { signingKey: await generateSigningKeySecret("RS256", "pem") } }),
};

async function issue(h: Harness, claims: Record<string, unknown> = {}): Promise<void> {
  const response = await h.request(await h.mint(claims));
  expect(response.status, await response.clone().text()).toBe(200);
}

describe.each(Object.entries(modes))("session identity through the Worker (%s)", (_mode, harnessFor) => {
  it("two jobs of one run get distinct session names, each carrying its audit event's token_sha256", async () => {
    const h = await harnessFor();
    await issue(h, { run_id: "9876543210", run_attempt: "1" });
    await issue(h, { run_id: "9876543210", run_attempt: "1" });
    const names = h.sts.assumeRoleCalls.map((call) => call.roleSessionName);
    expect(names).toHaveLength(2);
    expect(names[0]).not.toBe(names[1]);
    const hashes = h.events().map((event) => String(event.token_sha256));
    names.forEach((name, index) => {
      expect(name).toMatch(NAME);
      expect(name).toContain(`9876543210-1-${hashes[index]}`);
    });
  });

  it("two long actors sharing their first 64 characters get distinct source identities; a short one is unchanged", async () => {
    const h = await harnessFor();
    await issue(h, { actor: `${SHARED_64}-one` });
    await issue(h, { actor: `${SHARED_64}-two` });
    await issue(h, { actor: "octocat" });
    const identities = h.sts.assumeRoleCalls.map((call) => call.sourceIdentity ?? "");
    expect(identities[0]).not.toBe(identities[1]);
    for (const identity of identities.slice(0, 2)) {
      expect(identity).toMatch(NAME);
      expect(identity).toHaveLength(64);
      expect(identity).toMatch(/=[0-9a-f]+$/);
    }
    expect(identities[2]).toMatch(/^(gh-|ghe\.github\.)octocat$/);
  });
});
