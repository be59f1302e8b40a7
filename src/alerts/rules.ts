// Alert rules: what an operator may set in ALERT_RULES (zod, with defaults), and their evaluation against metrics.
// Pure; no I/O; no clock. A rule fires only on a strict excess over its threshold, as the issue states it ("more
// than").
import * as z from "zod/mini";
import {
  ALERT_DEFAULT_DENIALS_MAX,
  ALERT_DEFAULT_DENIALS_WINDOW_MINUTES,
  ALERT_DEFAULT_GITHUB_MIN_REMAINING,
  ALERT_DEFAULT_GITHUB_TOKEN_WIDE_MAX,
  ALERT_DEFAULT_GITHUB_TOKEN_WIDE_WINDOW_MINUTES,
  ALERT_DEFAULT_GITHUB_WINDOW_MINUTES,
  ALERT_DEFAULT_ISSUANCE_BASELINE_MINUTES,
  ALERT_DEFAULT_ISSUANCE_DROP_PERCENT,
  ALERT_DEFAULT_ISSUANCE_MIN_BASELINE,
  ALERT_DEFAULT_ISSUANCE_WINDOW_MINUTES,
  ALERT_DEFAULT_REPLAY_MAX,
  ALERT_DEFAULT_REPLAY_WINDOW_MINUTES,
  ALERT_DEFAULT_STS_MIN_SAMPLES,
  ALERT_DEFAULT_STS_P99_MS,
  ALERT_DEFAULT_STS_WINDOW_MINUTES,
  ALERT_MAX_DENIAL_INCIDENTS,
  ALERT_MAX_WINDOW_MINUTES,
} from "./constants.ts";

const minutes = z.int().check(z.minimum(1), z.maximum(ALERT_MAX_WINDOW_MINUTES));

const IssuanceDropSchema = z.strictObject({
  enabled: z._default(z.boolean(), true),
  /** Fire when the recent window's issuance is down more than this percentage against the baseline rate. */
  drop_percent: z._default(z.number().check(z.gt(0), z.maximum(100)), ALERT_DEFAULT_ISSUANCE_DROP_PERCENT),
  window_minutes: z._default(minutes, ALERT_DEFAULT_ISSUANCE_WINDOW_MINUTES),
  /** The baseline is the `baseline_minutes` just before the window. */
  baseline_minutes: z._default(minutes, ALERT_DEFAULT_ISSUANCE_BASELINE_MINUTES),
  /** Quiet periods are not outages: below this many issuances in the baseline, the rule stays silent. */
  min_baseline: z._default(z.int().check(z.minimum(1)), ALERT_DEFAULT_ISSUANCE_MIN_BASELINE),
});

const DenialsSchema = z.strictObject({
  enabled: z._default(z.boolean(), true),
  /** Fire when more than `max` requests of one repository owner were denied for one reason within the window. */
  max: z._default(z.int().check(z.minimum(0)), ALERT_DEFAULT_DENIALS_MAX),
  window_minutes: z._default(minutes, ALERT_DEFAULT_DENIALS_WINDOW_MINUTES),
});

const StsLatencySchema = z.strictObject({
  enabled: z._default(z.boolean(), true),
  /** Fire when STS p99 (all attempts of one request, sleeps excluded) is above this. */
  p99_ms: z._default(z.number().check(z.gt(0)), ALERT_DEFAULT_STS_P99_MS),
  window_minutes: z._default(minutes, ALERT_DEFAULT_STS_WINDOW_MINUTES),
  /** A p99 of a handful of calls is noise: below this many STS calls, the rule stays silent. */
  min_samples: z._default(z.int().check(z.minimum(1)), ALERT_DEFAULT_STS_MIN_SAMPLES),
});

/** Replays: a repository whose tokens keep coming back as already used is being replayed. Keyed by repository. */
const ReplaySchema = z.strictObject({
  enabled: z._default(z.boolean(), true),
  /** Fire for each repository with more than `max` `token_reused` answers within the window. */
  max: z._default(z.int().check(z.gte(0)), ALERT_DEFAULT_REPLAY_MAX),
  window_minutes: z._default(minutes, ALERT_DEFAULT_REPLAY_WINDOW_MINUTES),
});

/** GitHub API rate limit: the lowest x-ratelimit-remaining GitHub reported (audit double9) in the window. */
const GitHubRateLimitSchema = z.strictObject({
  enabled: z._default(z.boolean(), true),
  /** Fire when fewer than `min_remaining` requests were left (docs/github-facts.md). */
  min_remaining: z._default(z.int().check(z.gte(1)), ALERT_DEFAULT_GITHUB_MIN_REMAINING),
  window_minutes: z._default(minutes, ALERT_DEFAULT_GITHUB_WINDOW_MINUTES),
});

/**
 * GitHub tokens wider than their grant (reason github_token_wider_than_asked): refused and revoked, but GitHub
 * misbehaved.
 */
const GitHubTokenWideSchema = z.strictObject({
  enabled: z._default(z.boolean(), true),
  /** Fire when more than `max` were refused within the window (default 0: any one). */
  max: z._default(z.int().check(z.gte(0)), ALERT_DEFAULT_GITHUB_TOKEN_WIDE_MAX),
  window_minutes: z._default(minutes, ALERT_DEFAULT_GITHUB_TOKEN_WIDE_WINDOW_MINUTES),
});

/** ALERT_RULES: every rule and field optional; an absent one takes its default. Unknown keys are refused. */
export const AlertRulesSchema = z.strictObject({
  issuance_drop: z.prefault(IssuanceDropSchema, {}),
  denials: z.prefault(DenialsSchema, {}),
  sts_p99: z.prefault(StsLatencySchema, {}),
  replay: z.prefault(ReplaySchema, {}),
  github_rate_limit: z.prefault(GitHubRateLimitSchema, {}),
  github_token_wide: z.prefault(GitHubTokenWideSchema, {}),
});

export type AlertRules = z.infer<typeof AlertRulesSchema>;
export type RuleName = keyof AlertRules;
export const RULE_NAMES: readonly RuleName[] = [
  "issuance_drop",
  "denials",
  "sts_p99",
  "replay",
  "github_rate_limit",
  "github_token_wide",
];

export function defaultAlertRules(): AlertRules {
  return AlertRulesSchema.parse({});
}

/** What the alert queries measured, per rule window. Counts honour sampling (SUM(_sample_interval)). */
export interface AlertMetrics {
  issuedRecent?: number;
  issuedBaseline?: number;
  /** All policy denials in the window (the sum of `denialGroups`). */
  denials?: number;
  /** Denials per repository owner and reason, largest first. */
  denialGroups?: DenialGroup[];
  stsP99Ms?: number | null;
  stsSamples?: number;
  /**
   * `token_reused` answers per repository in the replay window, the most first (at most ALERT_REPLAY_MAX_REPOSITORIES).
   */
  replays?: Array<{ repository: string; count: number }>;
  /** Lowest GitHub x-ratelimit-remaining recorded in the window; null when no exchange called GitHub. */
  githubMinRemaining?: number | null;
  /** GitHub tokens refused as wider than their grant in the github_token_wide window. */
  githubTokensTooWide?: number;
}

/** Denials of one repository owner (GitHub owner, GitLab top-level group) for one reason. */
export interface DenialGroup {
  owner: string;
  reason: string;
  count: number;
  /** Distinct repositories among them. */
  repositories: number;
}

export interface Firing {
  rule: RuleName;
  /**
   * What the incident is about when a rule fires per subject (denials: `<owner> <reason>`; replay: the repository):
   * each
   * subject is its own incident, so one noisy subject can never hold another's quiet. Absent: one incident per rule.
   */
  subject?: string;
  /** The measured value compared with the threshold (percent drop, denial count, p99 ms). */
  value: number;
  threshold: number;
  /** One line for humans: numbers and windows, never a secret, token, ARN or account id. */
  summary: string;
}

const round = (value: number, digits = 0) => Number(value.toFixed(digits));

/**
 * The rules that fire for these metrics, in RULE_NAMES order. A rule whose metrics are missing (query not run) does not
 * fire.
 */
export function evaluateRules(rules: AlertRules, metrics: AlertMetrics): Firing[] {
  return [
    ...issuanceDropFiring(rules.issuance_drop, metrics),
    ...denialFirings(rules.denials, metrics),
    ...stsLatencyFiring(rules.sts_p99, metrics),
    ...replayFirings(rules.replay, metrics),
    ...githubRateLimitFiring(rules.github_rate_limit, metrics),
    ...githubTokenWideFiring(rules.github_token_wide, metrics),
  ];
}

function issuanceDropFiring(drop: AlertRules["issuance_drop"], metrics: AlertMetrics): Firing[] {
  if (
    !drop.enabled ||
    metrics.issuedRecent === undefined ||
    metrics.issuedBaseline === undefined ||
    metrics.issuedBaseline < drop.min_baseline
  ) {
    return [];
  }
  const expected = (metrics.issuedBaseline * drop.window_minutes) / drop.baseline_minutes;
  const dropPercent = expected > 0 ? Math.max(0, (1 - metrics.issuedRecent / expected) * 100) : 0;
  if (dropPercent <= drop.drop_percent) return [];
  return [
    {
      rule: "issuance_drop",
      value: round(dropPercent, 1),
      threshold: drop.drop_percent,
      summary:
        `Issuance down ${round(dropPercent)}%: ${metrics.issuedRecent} credentials issued in the last ${drop.window_minutes} min, ` +
        `against ${round(expected, 1)} expected from the previous ${drop.baseline_minutes} min (${metrics.issuedBaseline} issued). ` +
        `Threshold: more than ${drop.drop_percent}% down.`,
    },
  ];
}

function denialFirings(denials: AlertRules["denials"], metrics: AlertMetrics): Firing[] {
  if (!denials.enabled || metrics.denialGroups === undefined) return [];
  // Per owner and reason: any owner can mint tokens for our audience, so a global count could be held high (and its
  // incident open, hence quiet) by a stranger's steady trickle, hiding a real spike of our own.
  const over = metrics.denialGroups.filter((group) => group.count > denials.max);
  const firing: Firing[] = over.slice(0, ALERT_MAX_DENIAL_INCIDENTS).map((group) => {
    const across = group.repositories === 1 ? "1 repository" : `${group.repositories} repositories`;
    return {
      rule: "denials",
      subject: `${group.owner} ${group.reason}`,
      value: group.count,
      threshold: denials.max,
      summary: `${group.count} requests of owner ${group.owner} (${across}) denied by policy as ${group.reason} in the last ${denials.window_minutes} min. Threshold: more than ${denials.max} per owner and reason.`,
    };
  });
  const rest = over.slice(ALERT_MAX_DENIAL_INCIDENTS);
  if (rest.length > 0) {
    const count = rest.reduce((sum, group) => sum + group.count, 0);
    firing.push({
      rule: "denials",
      subject: "(other owners)",
      value: count,
      threshold: denials.max,
      summary: `${rest.length} more owner and reason pairs above the threshold: ${count} denied requests in the last ${denials.window_minutes} min. Threshold: more than ${denials.max} per owner and reason.`,
    });
  }
  return firing;
}

function stsLatencyFiring(sts: AlertRules["sts_p99"], metrics: AlertMetrics): Firing[] {
  const p99 = metrics.stsP99Ms;
  if (!sts.enabled || p99 === undefined || p99 === null) return [];
  if ((metrics.stsSamples ?? 0) < sts.min_samples || p99 <= sts.p99_ms) return [];
  return [
    {
      rule: "sts_p99",
      value: round(p99),
      threshold: sts.p99_ms,
      summary: `STS p99 is ${round(p99)} ms over ${metrics.stsSamples} calls in the last ${sts.window_minutes} min. Threshold: above ${sts.p99_ms} ms.`,
    },
  ];
}

function replayFirings(replay: AlertRules["replay"], metrics: AlertMetrics): Firing[] {
  if (!replay.enabled) return [];
  return (metrics.replays ?? [])
    .filter(({ count }) => count > replay.max)
    .map(({ repository, count }) => ({
      rule: "replay",
      subject: repository,
      value: count,
      threshold: replay.max,
      summary:
        `${count} requests for ${repository} were refused as token_reused in the last ${replay.window_minutes} min: its OIDC tokens are being presented twice ` +
        `(a replay, or a client resending). Threshold: more than ${replay.max}.`,
    }));
}

function githubRateLimitFiring(github: AlertRules["github_rate_limit"], metrics: AlertMetrics): Firing[] {
  const lowest = metrics.githubMinRemaining;
  if (!github.enabled || lowest === undefined || lowest === null || lowest >= github.min_remaining) return [];
  return [
    {
      rule: "github_rate_limit",
      value: lowest,
      threshold: github.min_remaining,
      summary: `GitHub API rate limit down to ${lowest} requests left in the last ${github.window_minutes} min (docs/github-facts.md). Threshold: below ${github.min_remaining}.`,
    },
  ];
}

function githubTokenWideFiring(wide: AlertRules["github_token_wide"], metrics: AlertMetrics): Firing[] {
  const tooWide = metrics.githubTokensTooWide;
  if (!wide.enabled || tooWide === undefined || tooWide <= wide.max) return [];
  return [
    {
      rule: "github_token_wide",
      value: tooWide,
      threshold: wide.max,
      summary:
        `${tooWide} GitHub tokens came back wider than their grant in the last ${wide.window_minutes} min (github_token_wider_than_asked): ` +
        `each was revoked and refused; check the token App's installation and the github_token_too_wide log lines (docs/operations.md). Threshold: more than ${wide.max}.`,
    },
  ];
}
