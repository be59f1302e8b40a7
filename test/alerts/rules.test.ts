import { describe, expect, it } from "vitest";
import {
  AlertRulesSchema,
  defaultAlertRules,
  evaluateRules,
  type AlertMetrics,
  type AlertRules,
  type DenialGroup,
} from "../../src/alerts/rules.ts";

describe("AlertRulesSchema", () => {
  it("{} gives the issue's rules: >80% issuance drop over 5 min vs the previous hour, >50 denials an hour, STS p99 >500 ms", () => {
    expect(defaultAlertRules()).toEqual({
      issuance_drop: { enabled: true, drop_percent: 80, window_minutes: 5, baseline_minutes: 60, min_baseline: 20 },
      denials: { enabled: true, max: 50, window_minutes: 60 },
      sts_p99: { enabled: true, p99_ms: 500, window_minutes: 15, min_samples: 10 },
      replay: { enabled: true, max: 5, window_minutes: 60 },
      github_rate_limit: { enabled: true, min_remaining: 500, window_minutes: 15 },
      github_token_wide: { enabled: true, max: 0, window_minutes: 60 },
    });
  });

  it.each([
    [499, true],
    [500, false],
    [null, false],
  ] as const)("github_rate_limit: lowest remaining %s -> fires %s (below 500)", (lowest, fires) => {
    const firing = evaluateRules(defaultAlertRules(), { githubMinRemaining: lowest });
    expect(firing.map((f) => f.rule)).toEqual(fires ? ["github_rate_limit"] : []);
  });

  it("a partial rule keeps the other fields' defaults", () => {
    const rules = AlertRulesSchema.parse({ denials: { max: 5 }, sts_p99: { enabled: false } });
    expect(rules.denials).toEqual({ enabled: true, max: 5, window_minutes: 60 });
    expect(rules.sts_p99.enabled).toBe(false);
    expect(rules.issuance_drop.drop_percent).toBe(80);
  });

  it.each([
    ["an unknown rule", { latency: {} }],
    ["an unknown field (typo)", { denials: { maximum: 5 } }],
    ["a negative threshold", { denials: { max: -1 } }],
    ["a fractional window", { sts_p99: { window_minutes: 2.5 } }],
    ["a window over a day", { issuance_drop: { baseline_minutes: 1441 } }],
    ["a drop over 100%", { issuance_drop: { drop_percent: 120 } }],
    ["a string number", { denials: { max: "50" } }],
    ["an unknown replay field", { replay: { per_repo: 5 } }],
    ["a fractional replay max", { replay: { max: 1.5 } }],
  ])("refuses %s", (_name, value) => {
    expect(AlertRulesSchema.safeParse(value).success).toBe(false);
  });
});

describe("evaluateRules", () => {
  const rules = defaultAlertRules();
  const fired = (metrics: AlertMetrics, with_: AlertRules = rules) => evaluateRules(with_, metrics).map((f) => f.rule);
  const group = (owner: string, count: number, reason = "no_matching_rule", repositories = 1): DenialGroup => ({
    owner,
    reason,
    count,
    repositories,
  });

  // Baseline 120 issued in 60 min = 10 per 5 min expected.
  it.each([
    [0, true, "100% down"],
    [1, true, "90% down"],
    [2, false, "80% down is not MORE than 80%"],
    [10, false, "steady"],
    [30, false, "busier"],
  ])("issuance: %i in the last 5 min against 120 in the hour -> fires %s (%s)", (recent, fires) => {
    expect(fired({ issuedRecent: recent, issuedBaseline: 120 })).toEqual(fires ? ["issuance_drop"] : []);
  });

  it("issuance: a quiet baseline (below min_baseline) never fires, even at zero", () => {
    expect(fired({ issuedRecent: 0, issuedBaseline: 19 })).toEqual([]);
    expect(fired({ issuedRecent: 0, issuedBaseline: 20 })).toEqual(["issuance_drop"]);
  });

  it.each([
    [50, false],
    [51, true],
  ])("denials: %i of one owner and reason in the hour -> fires %s (more than 50)", (count, fires) => {
    expect(fired({ denials: count, denialGroups: [group("acme", count)] })).toEqual(fires ? ["denials"] : []);
  });

  it("denials: each owner and reason is its own incident; a stranger's trickle is not ours", () => {
    const firing = evaluateRules(rules, {
      denials: 190,
      denialGroups: [
        group("evil", 80, "no_matching_rule", 40),
        group("acme", 60, "guard_untrusted_event", 2),
        group("acme", 50),
      ],
    });
    expect(firing.map((f) => [f.subject, f.value])).toEqual([
      ["evil no_matching_rule", 80],
      ["acme guard_untrusted_event", 60],
    ]);
    expect(firing[0]?.summary).toBe(
      "80 requests of owner evil (40 repositories) denied by policy as no_matching_rule in the last 60 min. Threshold: more than 50 per owner and reason.",
    );
  });

  it("denials: many owners above the threshold give five incidents and one for the rest", () => {
    const groups = Array.from({ length: 8 }, (_, i) => group(`org${i}`, 100 - i));
    const firing = evaluateRules(rules, { denialGroups: groups });
    expect(firing.map((f) => f.subject)).toEqual([
      "org0 no_matching_rule",
      "org1 no_matching_rule",
      "org2 no_matching_rule",
      "org3 no_matching_rule",
      "org4 no_matching_rule",
      "(other owners)",
    ]);
    expect(firing.at(-1)?.value).toBe(95 + 94 + 93);
  });

  it.each([
    [500, 10, false, "500 ms is not above 500"],
    [501, 10, true, "above"],
    [2000, 9, false, "too few calls to judge"],
    [null, 0, false, "no STS calls"],
  ] as Array<[number | null, number, boolean, string]>)(
    "sts: p99 %s ms over %i calls -> fires %s (%s)",
    (p99, samples, fires) => {
      expect(fired({ stsP99Ms: p99, stsSamples: samples })).toEqual(fires ? ["sts_p99"] : []);
    },
  );

  it("replay fires once per repository strictly above max, naming it", () => {
    const rules = AlertRulesSchema.parse({ replay: { max: 5 } });
    const replays = [
      { repository: "acme/app", count: 6 },
      { repository: "acme/infra", count: 5 },
      { repository: "acme/site", count: 40 },
    ];
    const firing = evaluateRules(rules, { replays });
    expect(firing.map((f) => [f.rule, f.subject, f.value])).toEqual([
      ["replay", "acme/app", 6],
      ["replay", "acme/site", 40],
    ]);
    expect(evaluateRules(AlertRulesSchema.parse({ replay: { enabled: false } }), { replays })).toEqual([]);
  });

  it("disabled rules and rules without metrics stay silent", () => {
    const off = AlertRulesSchema.parse({ denials: { enabled: false } });
    expect(fired({ denials: 1000, denialGroups: [group("acme", 1000)] }, off)).toEqual([]);
    expect(fired({})).toEqual([]);
  });

  it("summaries carry numbers and windows for a human", () => {
    const [drop, denials, sts] = evaluateRules(rules, {
      issuedRecent: 1,
      issuedBaseline: 120,
      denials: 73,
      denialGroups: [group("acme", 73)],
      stsP99Ms: 812.4,
      stsSamples: 40,
    });
    expect(drop).toEqual({
      rule: "issuance_drop",
      value: 90,
      threshold: 80,
      summary:
        "Issuance down 90%: 1 credentials issued in the last 5 min, against 10 expected from the previous 60 min (120 issued). Threshold: more than 80% down.",
    });
    expect(denials?.summary).toBe(
      "73 requests of owner acme (1 repository) denied by policy as no_matching_rule in the last 60 min. Threshold: more than 50 per owner and reason.",
    );
    expect(sts?.summary).toBe("STS p99 is 812 ms over 40 calls in the last 15 min. Threshold: above 500 ms.");
  });
});

describe("github_token_wide", () => {
  it("fires on any GitHub token refused as wider than its grant (default), names the count and the window", () => {
    const rules = defaultAlertRules();
    expect(evaluateRules(rules, { githubTokensTooWide: 0 })).toEqual([]);
    const [firing] = evaluateRules(rules, { githubTokensTooWide: 2 });
    expect(firing).toMatchObject({ rule: "github_token_wide", value: 2, threshold: 0 });
    expect(firing?.summary).toContain("2 GitHub tokens came back wider than their grant in the last 60 min");
    expect(
      evaluateRules(AlertRulesSchema.parse({ github_token_wide: { max: 2 } }), { githubTokensTooWide: 2 }),
    ).toEqual([]);
  });
});
