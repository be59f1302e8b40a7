// Every limit, timeout and fixed size of the broker, in one place. Unit in the name; one line of why each.
// Changing one of these changes behaviour a client or operator can see: note it in docs/ (the page of its feature).

// --- HTTP request ---------------------------------------------------------------------------
/** Largest request body we read; a token plus a few fields fits in a fraction of it. */
export const MAX_REQUEST_BODY_BYTES = 16 * 1024;
/** Largest token we parse; GitHub tokens are ~1-2 KiB, 8 KiB leaves room for other issuers. */
export const MAX_TOKEN_BYTES = 8 * 1024;

// --- Token verification --------------------------------------------------------------------
/** Default allowed clock skew between issuer, runner and us; GitHub runners drift a few seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 10;
/** Upper bound an operator may configure for clock tolerance; more makes expiry meaningless. */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;
/** Default oldest `iat` we accept; GitHub tokens live 5-10 minutes, so older means replayed or hoarded. */
export const DEFAULT_MAX_TOKEN_AGE_SECONDS = 15 * 60;
/** Longest `exp - iat` we accept. GitHub tokens are usually 5-10 min but have been seen at 6 h; freshness is MAX_TOKEN_AGE's job. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 6 * 60 * 60;
/** Smallest RSA modulus we trust for RS256 (NIST SP 800-131A; jose also refuses < 2048). */
export const MIN_RSA_MODULUS_BITS = 2048;

// --- JWKS cache chain ----------------------------------------------------------------------
/** How long a fetched key set is used without revalidation; GitHub rotates keys rarely. */
export const JWKS_FRESH_MS = 10 * 60 * 1000;
/** Default time we keep serving the last good key set while the issuer is down. */
export const DEFAULT_JWKS_MAX_STALE_SECONDS = 24 * 60 * 60;
/** A cached key set claiming to be fetched further in the future than this is ignored (clock skew between isolates). */
export const JWKS_STORED_FUTURE_SKEW_MS = 60 * 1000;
/**
 * Minimum gap between two refetches of one issuer's JWKS triggered by an unknown kid. Half the client's 60 s deadline,
 * so a job whose token is signed by a key published inside the cooldown (503 with Retry-After) still gets through.
 */
export const JWKS_REFETCH_COOLDOWN_MS = 30 * 1000;
/** Timeout for one JWKS or discovery fetch; the request waits on it, so keep it short. */
export const JWKS_FETCH_TIMEOUT_MS = 3_000;
/** Longest a request waits on another request's JWKS refresh: discovery + JWKS fetches, plus a second for KV. */
export const JWKS_INFLIGHT_MAX_MS = 2 * JWKS_FETCH_TIMEOUT_MS + 1_000;
/** Largest JWKS or discovery document we read; GitHub's is ~2 KiB. Caps memory on a hostile issuer. */
export const MAX_JWKS_RESPONSE_BYTES = 64 * 1024;
/** Most keys we accept in one JWKS; more is an attack or a misconfiguration. */
export const MAX_JWKS_KEYS = 50;
/** KV expiration of a cached key set: must outlive the stale window; KV requires at least 60 s. */
export const KV_MIN_EXPIRATION_TTL_SECONDS = 60;
/** After a failed JWKS/discovery fetch, wait this long before trying again (stale set or 503 meanwhile); matches Retry-After. */
export const JWKS_FAILURE_BACKOFF_MS = 5_000;
/**
 * Longest unknown `kid` that may wait for a key rotation (refetch, or 503 during the cooldown); a longer one is refused
 * at once. Real kids are far shorter: UUID 36, SHA-1 hex 40, RFC 7638 base64url 43, base64 SHA-512 88 characters.
 */
export const MAX_KID_CHARS = 128;
/** Longest `jti` we accept; GitHub's is a 36-char UUID, and the admission store keys on it. */
export const MAX_JTI_CHARS = 256;
/** A reservation's holder is the exchange's request id (a UUID, 36 chars): room to spare, nothing unbounded stored. */
export const MAX_ADMISSION_HOLDER_CHARS = 128;

// --- STS -----------------------------------------------------------------------------------
/** Credentials we issue by default: 15 minutes, the STS minimum and our whole reason to exist. */
export const DEFAULT_SESSION_DURATION_SECONDS = 900;
/** STS minimum DurationSeconds for AssumeRole. */
export const STS_MIN_DURATION_SECONDS = 900;
/** STS maximum DurationSeconds for AssumeRole (role's MaxSessionDuration may be lower). */
export const STS_MAX_DURATION_SECONDS = 43_200;
/** STS limit on session tags per AssumeRole call. */
export const STS_MAX_SESSION_TAGS = 50;
/** STS limit on a session tag key's length, in characters. */
export const STS_MAX_TAG_KEY_CHARS = 128;
/** STS limit on a session tag value's length, in characters. */
export const STS_MAX_TAG_VALUE_CHARS = 256;
/** STS limit on an inline session policy's length, in characters (before packing). */
export const STS_MAX_SESSION_POLICY_CHARS = 2048;
/** STS RoleSessionName / SourceIdentity length bounds, in characters. */
export const STS_MIN_NAME_CHARS = 2;
export const STS_MAX_NAME_CHARS = 64;
/**
 * Hex characters of SHA-256(login) in a SourceIdentity whose login cannot stand as it is (too long, or outside the
 * login alphabets): 128 bits, so no two logins share one. Fewer only where the issuer prefix leaves less room in 64.
 */
export const SOURCE_IDENTITY_HASH_HEX_CHARS = 32;
/** Most attempts at one AssumeRole (first try included) before answering 503. */
export const STS_MAX_ATTEMPTS = 4;
/** Base of the full-jitter exponential backoff between STS attempts. */
export const STS_BACKOFF_BASE_MS = 100;
/** Cap of one backoff sleep between STS attempts. */
export const STS_BACKOFF_CAP_MS = 2_000;
/** Timeout of one STS HTTP attempt; STS answers in ~50-200 ms when healthy. */
export const STS_ATTEMPT_TIMEOUT_MS = 3_000;
/** Deadline for the whole AssumeRole including retries: CI clients time out around 10-30 s. */
export const STS_DEADLINE_MS = 8_000;
/** Largest STS response body we read; a success is ~1.5 KiB, an error far less. */
export const MAX_STS_RESPONSE_BYTES = 64 * 1024;
/** An STS attempt with less time than this left before STS_DEADLINE_MS is not started (nor slept towards): it would mostly time out. */
export const STS_MIN_ATTEMPT_MS = 500;
/** Deepest element nesting we accept in an STS XML body; AssumeRoleResponse nests 4 deep. */
export const MAX_STS_XML_DEPTH = 16;
/** STS limit on managed session policies (`PolicyArns`) per AssumeRole call. */
export const STS_MAX_POLICY_ARNS = 10;
/** STS ExternalId length bounds, in characters. */
export const STS_MIN_EXTERNAL_ID_CHARS = 2;
export const STS_MAX_EXTERNAL_ID_CHARS = 1224;

// --- Policy -----------------------------------------------------------------------
/** How long one isolate trusts a kill-switch lookup (hit or miss); KV itself propagates in ~60 s, so a few seconds adds little. */
export const KILL_SWITCH_CACHE_MS = 5_000;
/** Most kill-switch lookups one isolate remembers; past this the memo is cleared (bounded memory under hostile names). */
export const KILL_SWITCH_CACHE_MAX_ENTRIES = 10_000;
/** Deepest GitLab namespace whose ancestors the kill switch checks; GitLab allows 20 levels of subgroups. */
export const KILL_SWITCH_MAX_NAMESPACE_DEPTH = 21;
/** KV edge-cache TTL for kill-switch reads: KV's minimum, so a new key is seen as soon as KV allows. */
export const KILL_SWITCH_KV_CACHE_TTL_SECONDS = 30;
/** KV's key size limit in bytes: a longer lookup key cannot exist, so it is not asked for. */
export const KV_MAX_KEY_BYTES = 512;

// --- GitHub token grants (docs/github-tokens.md) --------------------------------------------------
/** Most repositories one grant may name: "Create an installation access token" accepts up to 500 `repositories`. */
export const GITHUB_TOKEN_MAX_REPOSITORIES = 500;
/** Shortest `dangerous.reason` accepted: "needed" or "ci" tells a reviewer nothing; a sentence fragment does. */
export const GITHUB_TOKEN_MIN_DANGEROUS_REASON_CHARS = 12;
/** Longest `dangerous.reason`: a paragraph at most; the reason belongs in the policy file, not an essay. */
export const GITHUB_TOKEN_MAX_DANGEROUS_REASON_CHARS = 500;

// --- Admission control ----------------------------------------------------------
/** Largest per-rule issuance rate a policy may set; above this, STS throttles the broker anyway. */
export const MAX_RULE_RATE_PER_MINUTE = 6_000;
/** Largest per-rule burst a policy may set. */
export const MAX_RULE_BURST = 1_000;
/** Default issuances a minute per repository and rule: 10/s, 1/60 of the account's default STS quota (docs/fleet-scale.md). */
export const DEFAULT_REPOSITORY_RATE_PER_MINUTE = 600;
/** Default burst per repository and rule: 60 at once, then 10/s, serves a 256-job matrix in (256-60)/10 = 19.6 s. */
export const DEFAULT_REPOSITORY_BURST = 60;
/** Timeout of one admission Durable Object call; healthy calls take ~1-50 ms, so this is an outage (fail closed, 503). */
export const ADMISSION_CALL_TIMEOUT_MS = 2_000;
/** How long a used jti is kept past `exp` + clock tolerance: absorbs clock differences between Worker and object. */
export const ADMISSION_PURGE_GRACE_MS = 60_000;
/** Least gap between two purge alarms of one object: expired rows are deleted in batches, not one alarm each. */
export const ADMISSION_PURGE_INTERVAL_MS = 60_000;
/** Most live jti reservations one object holds; when full, new tokens are refused (429), never stored. ~100 B each. */
export const MAX_ADMISSION_RESERVATIONS = 100_000;

// --- Pre-authentication limit per client address ----------------
// On the Workers rate-limiting bindings of wrangler.toml ([[ratelimits]]), whose `simple` settings must equal these
// (test/e2e/deploy.test.ts checks). Why a binding and not a Durable Object: docs/performance.md.
/** Window of both address limits, seconds; the binding allows 10 or 60, and 10 forgives a burst sooner. */
export const ADDRESS_LIMIT_PERIOD_SECONDS = 10;
/** Requests per window per IPv4 address or IPv6 /64 (binding ADDRESS_LIMITER): 10/s, a 100-job matrix behind one NAT address at once. */
export const ADDRESS_LIMIT_PER_PERIOD = 100;
/** Requests per window per IPv6 /48 (binding NETWORK_LIMITER): eight busy /64s; one /48 must not buy 65,536 address budgets. */
export const NETWORK_LIMIT_PER_PERIOD = 800;

// --- Fleet scale: the repository bucket's reservation queue (docs/fleet-scale.md) ------
/** AWS's default STS request quota: 600 requests/s per account and Region, AssumeRole included (IAM User Guide, "STS request quotas"). */
export const STS_ACCOUNT_REQUESTS_PER_SECOND = 600;
/** A refused caller is queued only if its slot is at most this far away: fits the client's 60 s deadline with room for the retry. */
export const REPOSITORY_QUEUE_MAX_WAIT_MS = 45_000;
/** Unclaimed reservations are kept this long past the newest slot: the client comes back up to ~2 s late (Retry-After rounding + jitter). */
export const REPOSITORY_QUEUE_CLAIM_GRACE_MS = 10_000;

// --- Responses -----------------------------------------------------------------------------
/** Retry-After on 503 upstream_unavailable: long enough for a transient blip to clear. */
export const UPSTREAM_RETRY_AFTER_SECONDS = 5;
/** Length of the token SHA-256 prefix (hex chars) written to logs: enough to correlate, useless to replay. */
export const TOKEN_HASH_PREFIX_HEX_CHARS = 16;

// --- Audit events on Analytics Engine ---------------------------------------------
/** Analytics Engine index limit (developers.cloudflare.com/analytics/analytics-engine/limits/): 96 bytes. */
export const AE_MAX_INDEX_BYTES = 96;
/** AE limit on all blobs of one data point together: 16 KB since June 2025; we keep under the older 5120 bytes. */
export const AE_MAX_BLOBS_TOTAL_BYTES = 5_120;
/** AE limit on blobs and on doubles per data point. */
export const AE_MAX_BLOBS = 20;
export const AE_MAX_DOUBLES = 20;
/** Cap on one audit blob: 12 blobs x 256 B stays under AE_MAX_BLOBS_TOTAL_BYTES; a git ref is at most ~255 chars. */
export const AUDIT_MAX_BLOB_BYTES = 256;
/** double7 of every data point: bump when a position's meaning changes (positions are append-only). */
export const AUDIT_SCHEMA_VERSION = 1;
/** A timing double for a stage that did not run: negative so quantiles can filter it out (`> -1`). */
export const AUDIT_NOT_MEASURED = -1;
/** index1 when the repository is unknown (rejected before verification): one AE index value for all of those. */
export const AUDIT_UNKNOWN_INDEX = "-";
/** Dataset queried when none is configured; matches [[analytics_engine_datasets]] in wrangler.toml. */
export const AUDIT_DATASET_DEFAULT = "ci_credential_broker";

// --- Analytics SQL API and `npm run analytics` ---------------------------------------
/** Cloudflare API base; the SQL endpoint is `${base}/accounts/<id>/analytics_engine/sql`. */
export const CLOUDFLARE_API_BASE_URL = "https://api.cloudflare.com/client/v4";
/** Timeout of one SQL API query; answers take well under a second, the cron has ~30 s of wall time. */
export const SQL_API_TIMEOUT_MS = 10_000;
/** Largest SQL API answer we read; our queries are LIMITed to a few KiB. */
export const MAX_SQL_RESPONSE_BYTES = 1024 * 1024;
/** Default window of the named queries. */
export const ANALYTICS_DEFAULT_SINCE_MINUTES = 60;
/** Default window of `request` / `token` lookups: a job is usually investigated within days. */
export const ANALYTICS_REQUEST_DEFAULT_SINCE_MINUTES = 7 * 24 * 60;
/** Longest --since: Analytics Engine keeps data three months. */
export const ANALYTICS_MAX_SINCE_MINUTES = 92 * 24 * 60;
/** Time series aim at no more than this many buckets: one terminal line of bars. */
export const ANALYTICS_SERIES_TARGET_BUCKETS = 30;
/** Rows of a table query (LIMIT). */
export const ANALYTICS_TABLE_LIMIT = 50;
/** Height of the terminal chart, in text rows (each row has 8 levels). */
export const ANALYTICS_CHART_HEIGHT_ROWS = 8;
/** Widest chart plot, in columns: fits an 80-column terminal with the axis labels. */
export const ANALYTICS_CHART_MAX_WIDTH_COLUMNS = 64;

// --- Alerts -------------------------------------------------------------------------
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
/** Shortest cooldown: two cron periods (wrangler.toml crons every 5 min), or every run of one incident would post again. */
export const ALERT_MIN_COOLDOWN_MINUTES = 10;
/** Timeout of one webhook POST; Slack answers in well under a second. */
export const ALERT_WEBHOOK_TIMEOUT_MS = 5_000;
/** KV key prefix of alert incident state in the JWKS_CACHE namespace (whose own keys start with `jwks:`). */
export const ALERT_KV_PREFIX = "alerts:v1:incident:";

// --- Local sandbox (npm start; never part of the deployed Worker) -------------------------
/** Where `npm start` serves the broker (wrangler dev). */
export const SANDBOX_BROKER_PORT = 8787;
/** Where `npm start` serves the fake OIDC issuer and the STS emulator. */
export const SANDBOX_PORT = 8788;
/** Audience the sandbox issuer puts in tokens; matches the ISSUERS entry of [env.sandbox]. */
export const SANDBOX_AUDIENCE = "ci-credential-broker";
/** How long `npm start` waits for wrangler dev to answer /healthz before giving up. */
export const SANDBOX_STARTUP_TIMEOUT_MS = 60_000;

// --- Local Analytics Engine of the sandbox (chdb; never part of the deployed Worker) -------------
/** Longest the first-use install of chdb may take: a 180 MB download on a slow link. */
export const CHDB_INSTALL_TIMEOUT_MS = 5 * 60_000;
/** Largest SQL text the local SQL API reads: our longest query is about 2 KB; Grafana's expanded panels a little more. */
export const LOCAL_SQL_MAX_BODY_BYTES = 64 * 1024;
/** The sandbox's Cloudflare account id and API token for its local SQL API (placeholders: nothing real is behind them). */
export const SANDBOX_ANALYTICS_ACCOUNT_ID = "0123456789abcdef0123456789abcdef";
export const SANDBOX_ANALYTICS_API_TOKEN = "sandbox-analytics-token";
/** The dataset of the sandbox's AUDIT binding ([[env.sandbox.analytics_engine_datasets]] in wrangler.toml). */
export const SANDBOX_AUDIT_DATASET = "ci_credential_broker_sandbox";

// --- Web-identity mode: the broker as an OIDC provider for AWS ----------------------
/** `aud` of the broker's tokens: the audience AWS expects from an OIDC provider registered for STS. */
export const WEB_IDENTITY_AUDIENCE = "sts.amazonaws.com";
/** Lifetime of a minted token: 5 minutes, the ceiling; one exchange (STS deadline 8 s) uses it once. */
export const WEB_IDENTITY_TOKEN_LIFETIME_SECONDS = 5 * 60;
/** SubjectFromWebIdentityToken length bounds (AssumeRoleWithWebIdentity API reference). */
export const WEB_IDENTITY_MIN_SUBJECT_CHARS = 6;
export const WEB_IDENTITY_MAX_SUBJECT_CHARS = 255;
/** Cache-Control max-age of discovery and JWKS: a next key published now is seen by every cache within 5 minutes. */
export const WELL_KNOWN_MAX_AGE_SECONDS = 5 * 60;
/** Timeout of each call the post-deploy smoke test makes (`npm run smoke`): the broker's own STS deadline is 8 s. */
export const SMOKE_TIMEOUT_MS = 15_000;

// --- GitHub facts (docs/github-facts.md) -------------------------------------------
/** Most `require.checks` entries one rule may name: each is one API call per commit; real gates name a handful. */
export const MAX_REQUIRED_CHECKS = 20;
/** Most approvals a rule may require: beyond any review policy in practice, and a typo (100) would deny every job. */
export const MAX_REQUIRED_APPROVALS = 10;
/** Default REST API base for github.com issuers; GHES is `https://HOST/api/v3`, GHE.com `https://api.SUBDOMAIN.ghe.com`. */
export const GITHUB_DEFAULT_API_URL = "https://api.github.com";
/** REST API version we send (`X-GitHub-Api-Version`) and whose response shapes we parse. */
export const GITHUB_API_VERSION = "2022-11-28";
/** How far in the past an App JWT's `iat` is set: GitHub recommends 60 s to absorb clock drift. */
export const GITHUB_APP_JWT_BACKDATE_SECONDS = 60;
/** App JWT lifetime from `iat`; GitHub refuses `exp` more than 10 minutes ahead, so 9 min after a 60 s backdate is 8 min ahead. */
export const GITHUB_APP_JWT_LIFETIME_SECONDS = 9 * 60;
/** Reuse a signed App JWT while it has at least this long left (one JWT signs many installation-token requests). */
export const GITHUB_APP_JWT_REFRESH_MARGIN_SECONDS = 2 * 60;
/** Stop using an installation token this long before its `expires_at` (tokens live 1 h; in-flight calls need slack). */
export const GITHUB_TOKEN_REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** How long one repository's installation id is remembered: installations change rarely; a removal then shows as 401/404. */
export const GITHUB_INSTALLATION_CACHE_MS = 10 * 60 * 1000;
/** Positive facts (a satisfied requirement) are reused this long per (repository id, sha, requirement); failures never. */
export const GITHUB_FACT_CACHE_MS = 60 * 1000;
/** Most cached facts/installations one isolate keeps; past this the oldest are dropped (bounded memory). */
export const GITHUB_CACHE_MAX_ENTRIES = 5_000;
/** Timeout of one GitHub API call; the API answers in ~100-500 ms when healthy. */
export const GITHUB_CALL_TIMEOUT_MS = 2_000;
/** All GitHub calls of one exchange together: verification + this + STS_DEADLINE_MS stays under the client's 15 s attempt. */
export const GITHUB_BUDGET_MS = 4_000;
/** Largest GitHub response body we read; 100 reviews or check runs are ~100-300 KiB. */
export const MAX_GITHUB_RESPONSE_BYTES = 512 * 1024;
/** Items per page we ask for (`per_page`): GitHub's maximum. */
export const GITHUB_PAGE_SIZE = 100;
/** Most pages followed through `Link: rel="next"`: 10 x 100 reviews or check runs is beyond any real pull request. */
export const GITHUB_MAX_PAGES = 10;
/** Retry-After when GitHub rate-limits without saying how long: its docs say to wait at least a minute. */
export const GITHUB_RATE_LIMIT_DEFAULT_RETRY_AFTER_SECONDS = 60;
/** Longest Retry-After we pass on from GitHub (a primary limit resets within the hour; clients should not sleep longer). */
export const GITHUB_RATE_LIMIT_MAX_RETRY_AFTER_SECONDS = 15 * 60;
/** Alert rule github_rate_limit: fire when GitHub's remaining primary rate limit fell below this in the window. */
export const ALERT_DEFAULT_GITHUB_MIN_REMAINING = 500;
export const ALERT_DEFAULT_GITHUB_WINDOW_MINUTES = 15;
/** A GitHub token wider than its grant is never normal (GitHub, or something between, misbehaves): any one fires. */
export const ALERT_DEFAULT_GITHUB_TOKEN_WIDE_MAX = 0;
/** Over an hour: rare enough that a longer window costs nothing, and an hourly cron still sees every one. */
export const ALERT_DEFAULT_GITHUB_TOKEN_WIDE_WINDOW_MINUTES = 60;

// --- Revoking sessions already issued (`npm run revoke`; docs/operations.md) ---------------------
/** KV's documented worst case for a write to reach every location: how long a new kill-switch key takes to bite. */
export const KV_PROPAGATION_MAX_MS = 60_000;
/** Longest a request that passed the kill switch just before it bit can still be minting: GitHub facts, admission, STS. */
export const EXCHANGE_AFTER_KILL_SWITCH_MAX_MS = GITHUB_BUDGET_MS + ADMISSION_CALL_TIMEOUT_MS + STS_DEADLINE_MS;
/** Default cutoff after now: by then the kill switch has reached every location and isolate, and nothing it let in is still minting. */
export const REVOKE_CUTOFF_DELAY_MS = KV_PROPAGATION_MAX_MS + KILL_SWITCH_CACHE_MS + EXCHANGE_AFTER_KILL_SWITCH_MAX_MS;
/** IAM's cap on all inline policies of one role together, white space not counted (IAM quotas, "Role policy size"). */
export const IAM_ROLE_INLINE_POLICIES_MAX_CHARS = 10_240;
/** One IAM API call: IAM answers in well under a second, so longer is an outage or a wrong endpoint. */
export const IAM_CALL_TIMEOUT_MS = 10_000;
/** Attempts per IAM call on Throttling or a 5xx: IAM's control plane throttles bursts; two more tries ride one out. */
export const IAM_MAX_ATTEMPTS = 3;
/** Wait before the second IAM attempt, doubled before the third. */
export const IAM_BACKOFF_BASE_MS = 500;
/** Largest IAM answer read: a role's trust policy and an inline policy are at most ~10 KiB each, URL-encoded about 3x. */
export const IAM_MAX_RESPONSE_BYTES = 256 * 1024;
/** Deepest XML nesting accepted from IAM: its answers nest five levels; more is not IAM. */
export const IAM_MAX_XML_DEPTH = 16;

// --- Security hardening ----------------------------------------------------------
/**
 * The audience the client and the sample configuration default to: the same in every deployment, so a token minted
 * for one deployment is accepted by every other that keeps it. Config validation warns when a non-sandbox issuer
 * accepts it (docs/security.md, "Audience").
 */
export const SHARED_DEFAULT_AUDIENCE = "ci-credential-broker";
/** Alerts: a firing incident notifies again, within its cooldown, once its value reaches this multiple of the last notified value. */
export const ALERT_ESCALATION_FACTOR = 4;
/** Alerts: most (owner, reason) denial incidents notified per run, the largest first; the rest are summed in one more message. */
export const ALERT_MAX_DENIAL_INCIDENTS = 5;
/** Alerts: most (repository, reason) rows the denials query reads, largest first; a flood of tiny groups cannot hide a big one. */
export const ALERT_DENIAL_GROUPS_LIMIT = 1_000;
/** Alerts: hex characters of SHA-256(subject) in a per-subject incident key; keeps KV keys short and uncollidable by choice of name. */
export const ALERT_SUBJECT_HASH_HEX_CHARS = 32;

// --- Hot path (per-request CPU) ---

/** Workers KV bulk read: at most 100 keys per `get([...])` call (developers.cloudflare.com/kv/api/read-key-value-pairs/). */
export const KV_BULK_GET_MAX_KEYS = 100;
/** One UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4): `length * 3` bounds a string's UTF-8 size without encoding it. */
export const MAX_UTF8_BYTES_PER_UTF16_UNIT = 3;
