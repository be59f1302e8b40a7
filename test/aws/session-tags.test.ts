// Session tag values in STS's alphabet, losslessly (tagValue), and the operator's tags beside the broker's.
import { describe, expect, it } from "vitest";
import { tagValue } from "../../src/aws/session-tags.ts";
import { STS_MAX_SESSION_TAGS } from "../../src/aws/constants.ts";
import { brokerFailure } from "../support/broker-failure.ts";
import { build, claims, grant } from "./session-helpers.ts";

describe("tagValue: lossless", () => {
  it.each([
    ["refs/heads/feature/x-1", "refs/heads/feature/x-1"],
    ["user@example.com", "user@example.com"],
    ["a+b:c", "a+b:c"],
    ["Deploy to prod", "Deploy to prod"],
    ["日本語のワークフロー", "日本語のワークフロー"],
    ["café", "café"],
    ["a=b", "a=3Db"],
    ["e\u0301", "e=CC=81"],
    ["a*b#c", "a=2Ab=23c"],
    ["dependabot[bot]", "dependabot=5Bbot=5D"],
    ["🚀 launch", "=F0=9F=9A=80 launch"],
    ["line\nbreak", "line=0Abreak"],
    ["a\u2028b", "a=E2=80=A8b"],
    ["\u202Egnp.exe", "=E2=80=AEgnp.exe"],
    ["", ""],
  ])("%j -> %j", async (input, expected) => {
    expect(tagValue(input)).toBe(expected);
  });

  it("the issue's pair: refs/heads/release!2024 and refs/heads/release_2024 get different Ref tags", async () => {
    const ref = async (value: string) =>
      (await build({ ...claims, ref: value })).tags.find((tag) => tag.key === "Ref")?.value;
    expect(await ref("refs/heads/release!2024")).toBe("refs/heads/release=212024");
    expect(await ref("refs/heads/release_2024")).toBe("refs/heads/release_2024");
    // The escape character itself is escaped, so a literal "=21" cannot pose as an escaped "!".
    expect(await ref("refs/heads/release=212024")).toBe("refs/heads/release=3D212024");
  });

  it("refuses (undefined) rather than cut: 256 characters fit, 257 do not; escapes count", async () => {
    expect(tagValue("a".repeat(256))).toBe("a".repeat(256));
    expect(tagValue("a".repeat(257))).toBeUndefined();
    expect(tagValue("𝐀".repeat(128))).toBe("𝐀".repeat(128));
    expect(tagValue("𝐀".repeat(129))).toBeUndefined();
    expect(tagValue(`${"a".repeat(253)}!`)).toBe(`${"a".repeat(253)}=21`);
    expect(tagValue(`${"a".repeat(254)}!`)).toBeUndefined();
  });
});

describe("buildAssumeRoleInput: operator tags", () => {
  it("appends operator tags after the claim tags, not transitive", async () => {
    const input = await build(
      claims,
      grant({
        sessionTags: [
          ["Team", "platform"],
          ["CostCenter", "42"],
        ],
      }),
    );
    expect(input.tags.slice(-2)).toEqual([
      { key: "Team", value: "platform" },
      { key: "CostCenter", value: "42" },
    ]);
    expect(input.transitiveTagKeys).not.toContain("Team");
  });

  it.each<[string, Array<[string, string]>]>([
    ["same key as ours", [["Repository", "x"]]],
    ["ours in another case", [["repositoryID", "x"]]],
    ["optional key of ours", [["Environment", "x"]]],
    ["aws: prefix", [["aws:PrincipalTag", "x"]]],
    ["AWS: prefix", [["AWS:foo", "x"]]],
    [
      "two operator keys differing in case",
      [
        ["Team", "a"],
        ["team", "b"],
      ],
    ],
  ])("refuses %s as session_tag_conflict", async (_label, sessionTags) => {
    const error = await brokerFailure(build(claims, grant({ sessionTags })));
    expect(error.code).toBe("config_invalid");
    expect(error.reason).toBe("session_tag_conflict");
  });

  it.each<[string, [string, string]]>([
    ["empty key", ["", "x"]],
    ["bad key char", ["bad*key", "x"]],
    ["key too long", ["k".repeat(129), "x"]],
    ["bad value char", ["Team", "a#b"]],
    ["value too long", ["Team", "v".repeat(257)]],
  ])("refuses %s as session_tag_invalid", async (_label, tag) => {
    const error = await brokerFailure(build(claims, grant({ sessionTags: [tag] })));
    expect(error.code).toBe("config_invalid");
    expect(error.reason).toBe("session_tag_invalid");
  });

  it("allows exactly STS_MAX_SESSION_TAGS tags and refuses one more", async () => {
    const ours = (await build()).tags.length;
    const operator = (count: number) => Array.from({ length: count }, (_, i) => [`Op${i}`, "v"] as [string, string]);
    expect((await build(claims, grant({ sessionTags: operator(STS_MAX_SESSION_TAGS - ours) }))).tags).toHaveLength(
      STS_MAX_SESSION_TAGS,
    );
    const error = await brokerFailure(build(claims, grant({ sessionTags: operator(STS_MAX_SESSION_TAGS - ours + 1) })));
    expect(error.code).toBe("config_invalid");
    expect(error.reason).toBe("session_tag_limit");
  });
});
