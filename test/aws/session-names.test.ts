// SourceIdentity is injective (never cut, never two logins on one identity) and RoleSessionName is distinct per
// exchange; both always within STS's rules (2..64 of [\w+=,.@-], not `aws:`).
import { describe, expect, it } from "vitest";
import {
  identityPrefix,
  sessionName,
  sourceIdentity,
  SOURCE_IDENTITY_HASH_SEPARATOR,
} from "../../src/aws/session-names.ts";
import { SOURCE_IDENTITY_HASH_HEX_CHARS, STS_MAX_NAME_CHARS } from "../../src/aws/constants.ts";
import { BrokerError } from "../../src/errors.ts";
import { seededText } from "../support/seeded-text.ts";

const NAME = /^[\w+=,.@-]{2,64}$/;

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

describe("sourceIdentity: logins that fit stand for themselves", () => {
  it.each([
    ["github", "gh-", "octocat", "gh-octocat"],
    ["github", "gh-", "dependabot[bot]", "gh-dependabot_bot_"],
    ["github", "ghe.ghes.", "mona-lisa", "ghe.ghes.mona-lisa"],
    ["gitlab", "gl-", "sample_user.name-1", "gl-sample_user.name-1"],
    ["github", "gh-", "a".repeat(STS_MAX_NAME_CHARS - 3), `gh-${"a".repeat(STS_MAX_NAME_CHARS - 3)}`],
  ] as const)("%s %s%s", async (kind, prefix, login, expected) => {
    expect(await sourceIdentity(kind, prefix, login)).toBe(expected);
  });
});

describe("sourceIdentity: injective", () => {
  it("two long GitLab usernames sharing their first 64 characters get different identities, each 64 long", async () => {
    const shared = "a".repeat(64);
    const one = await sourceIdentity("gitlab", "gl-", `${shared}-first`);
    const two = await sourceIdentity("gitlab", "gl-", `${shared}-second`);
    expect(one).not.toBe(two);
    for (const identity of [one, two]) {
      expect(identity).toMatch(NAME);
      expect(identity).toHaveLength(STS_MAX_NAME_CHARS);
    }
  });

  it("one character over the limit is hashed, not cut: <prefix><readable start>=<SHA-256 hex of the whole login>", async () => {
    const login = "b".repeat(STS_MAX_NAME_CHARS - 2);
    const identity = await sourceIdentity("github", "gh-", login);
    const hash = (await sha256Hex(login)).slice(0, SOURCE_IDENTITY_HASH_HEX_CHARS);
    expect(identity).toBe(`gh-${"b".repeat(STS_MAX_NAME_CHARS - 3 - 1 - SOURCE_IDENTITY_HASH_HEX_CHARS)}=${hash}`);
    expect(identity).not.toBe(`gh-${login}`.slice(0, STS_MAX_NAME_CHARS));
  });

  it("a plain identity never holds the separator, a hashed one always does: no login equals someone's prefix plus hash", async () => {
    // The strongest attempt: a GitLab login spelled like the readable part of someone's hashed identity.
    const victim = await sourceIdentity("gitlab", "gl-", "v".repeat(200));
    const [readable = "", hash = ""] = victim.slice(3).split(SOURCE_IDENTITY_HASH_SEPARATOR);
    expect(hash).toMatch(/^[0-9a-f]{32}$/);
    const mimic = await sourceIdentity("gitlab", "gl-", `${readable}${SOURCE_IDENTITY_HASH_SEPARATOR}${hash}`);
    expect(mimic).not.toBe(victim);
    const plain = [
      ["github", "octocat"],
      ["github", "dependabot[bot]"],
      ["gitlab", "sample_user.name-1"],
    ] as const;
    for (const [kind, login] of plain)
      expect(await sourceIdentity(kind, "gl-", login)).not.toContain(SOURCE_IDENTITY_HASH_SEPARATOR);
    const hashed = [
      ["github", "a.b"],
      ["github", "x".repeat(100)],
      ["gitlab", "a=b"],
      ["gitlab", "a+b"],
    ] as const;
    for (const [kind, login] of hashed)
      expect((await sourceIdentity(kind, "gl-", login)).split(SOURCE_IDENTITY_HASH_SEPARATOR)).toHaveLength(2);
  });

  it.each([
    ["brackets GitHub never writes", "github", "a[b", "a]b"],
    ["an underscore on GitHub (no GitHub login has one) against its bot form", "github", "x_bot_", "x[bot]"],
    ["a space against an underscore on GitLab", "gitlab", "a b", "a_b"],
    ["astral characters", "gitlab", "🚀", "😀"],
  ] as const)("values that sanitise alike stay apart: %s", async (_name, kind, one, two) => {
    const a = await sourceIdentity(kind, "gl-", one);
    const b = await sourceIdentity(kind, "gl-", two);
    expect(a).not.toBe(b);
    expect(a).toMatch(NAME);
    expect(b).toMatch(NAME);
  });

  it("fits 64 whatever the issuer prefix: the longest (ghe.<32-char id>.) keeps a 104-bit hash", async () => {
    const prefix = identityPrefix({
      id: "i".repeat(32),
      kind: "github",
      issuer: "https://ghes.example/_services/token",
    });
    expect(prefix).toHaveLength(37);
    const identity = await sourceIdentity("github", prefix, "x".repeat(100));
    expect(identity).toHaveLength(STS_MAX_NAME_CHARS);
    expect(identity).toMatch(new RegExp(`^${prefix.replaceAll(".", "\\.")}=[0-9a-f]{26}$`));
  });

  it("refuses a login with an unpaired surrogate (UTF-8 cannot carry it, so two could share a hash)", async () => {
    const error = await sourceIdentity("gitlab", "gl-", "a\uD800b").catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: "forbidden", reason: "source_identity_unrepresentable" });
  });

  it("random logins: always within STS's rules, never two logins on one identity", async () => {
    const pool = ["a", "Z", "9", "_", "-", ".", "=", "@", "+", ",", " ", "[", "]", "é", "🚀"];
    const text = seededText(0x1234567, pool, 90);
    const seen = new Map<string, string>();
    for (let round = 0; round < 400; round++) {
      const login = text();
      const identity = await sourceIdentity(round % 2 === 0 ? "github" : "gitlab", "gl-", login);
      expect(identity).toMatch(NAME);
      expect(identity.toLowerCase().startsWith("aws:")).toBe(false);
      const key = `${round % 2}:${identity}`;
      if (seen.has(key)) expect(seen.get(key)).toBe(login);
      seen.set(key, login);
    }
  });
});

describe("sessionName: distinct per exchange", () => {
  it("two jobs of one run (two tokens) get two names; the token hash is never cut", () => {
    const one = sessionName("gh-", ["9876543210", "1"], "0123456789abcdef", "acme.app");
    const two = sessionName("gh-", ["9876543210", "1"], "fedcba9876543210", "acme.app");
    expect(one).toBe("gh-9876543210-1-0123456789abcdef-acme.app");
    expect(two).not.toBe(one);
    const long = sessionName(`ghe.${"i".repeat(32)}.`, ["9".repeat(40), "12"], "0123456789abcdef", "acme.app");
    expect(long).toHaveLength(STS_MAX_NAME_CHARS);
    expect(long).toMatch(NAME);
    expect(long).toContain("-0123456789abcdef");
  });

  it("holds STS's alphabet whatever the ids and slug contain", () => {
    const name = sessionName("gl-", ["a b", "🚀", undefined], "0123456789abcdef", "x*".repeat(50));
    expect(name).toMatch(NAME);
  });
});
