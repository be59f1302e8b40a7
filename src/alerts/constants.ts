// Defaults and limits of the alert rules, their incidents and the webhook that posts them.
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

// --- Alerts ---
/** Alert windows end this long before the cron's scheduled time: the newest AE rows take a moment to be queryable. */
export const AE_INGEST_LAG_MS = 60_000;
/** Issuance-drop rule: fire when the last window is down more than this percentage against the baseline rate. */
export const ALERT_DEFAULT_ISSUANCE_DROP_PERCENT = 80;
export const ALERT_DEFAULT_ISSUANCE_WINDOW_MINUTES = 5;
export const ALERT_DEFAULT_ISSUANCE_BASELINE_MINUTES = 60;
/** Below this many issuances in the baseline hour, a drop is a quiet night, not an outage. */
export const ALERT_DEFAULT_ISSUANCE_MIN_BASELINE = 20;
/** Denials rule: more than this many policy denials in the window. */
export const ALERT_DEFAULT_DENIALS_MAX = 50;
export const ALERT_DEFAULT_DENIALS_WINDOW_MINUTES = 60;
/** STS latency rule: p99 above this, over the window, with at least the minimum number of STS calls. */
export const ALERT_DEFAULT_STS_P99_MS = 500;
export const ALERT_DEFAULT_STS_WINDOW_MINUTES = 15;
export const ALERT_DEFAULT_STS_MIN_SAMPLES = 10;
/** Replay rule: more than this many `token_reused` answers for one repository in the window (docs/fleet-scale.md). */
export const ALERT_DEFAULT_REPLAY_MAX = 5;
export const ALERT_DEFAULT_REPLAY_WINDOW_MINUTES = 60;
/** Most repositories the replay query returns (the worst first): one alert each. */
export const ALERT_REPLAY_MAX_REPOSITORIES = 10;
/** Longest window a rule may name: one day. */
export const ALERT_MAX_WINDOW_MINUTES = 24 * 60;
/** Default cooldown: an incident closes (and may alert again) after an hour without firing. */
export const ALERT_DEFAULT_COOLDOWN_MINUTES = 60;
/** Longest cooldown an operator may set: a week. */
export const ALERT_MAX_COOLDOWN_MINUTES = 7 * 24 * 60;
/**
 * Shortest cooldown: two cron periods (wrangler.toml crons every 5 min), or every run of one incident would post again.
 */
export const ALERT_MIN_COOLDOWN_MINUTES = 10;
/** Timeout of one webhook POST; Slack answers in well under a second. */
export const ALERT_WEBHOOK_TIMEOUT_MS = 5_000;
/** KV key prefix of alert incident state in the JWKS_CACHE namespace (whose own keys start with `jwks:`). */
export const ALERT_KV_PREFIX = "alerts:v1:incident:";

// --- GitHub rules ---
/** Alert rule github_rate_limit: fire when GitHub's remaining primary rate limit fell below this in the window. */
export const ALERT_DEFAULT_GITHUB_MIN_REMAINING = 500;
export const ALERT_DEFAULT_GITHUB_WINDOW_MINUTES = 15;
/** A GitHub token wider than its grant is never normal (GitHub, or something between, misbehaves): any one fires. */
export const ALERT_DEFAULT_GITHUB_TOKEN_WIDE_MAX = 0;
/** Over an hour: rare enough that a longer window costs nothing, and an hourly cron still sees every one. */
export const ALERT_DEFAULT_GITHUB_TOKEN_WIDE_WINDOW_MINUTES = 60;

// --- Incidents: escalation and grouping ---
/**
 * Alerts: a firing incident notifies again, within its cooldown, once its value reaches this multiple of the last
 * notified value.
 */
export const ALERT_ESCALATION_FACTOR = 4;
/**
 * Alerts: most (owner, reason) denial incidents notified per run, the largest first; the rest are summed in one more
 * message.
 */
export const ALERT_MAX_DENIAL_INCIDENTS = 5;
/**
 * Alerts: most (repository, reason) rows the denials query reads, largest first; a flood of tiny groups cannot hide a
 * big one.
 */
export const ALERT_DENIAL_GROUPS_LIMIT = 1_000;
/**
 * Alerts: hex characters of SHA-256(subject) in a per-subject incident key; keeps KV keys short and uncollidable by
 * choice of name.
 */
export const ALERT_SUBJECT_HASH_HEX_CHARS = 32;
