// Limits of the audit trail on Analytics Engine, and of reading it back through the SQL API (`npm run analytics`,
// alerts).
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

// --- Token correlation ---
/** Length of the token SHA-256 prefix (hex chars) written to logs: enough to correlate, useless to replay. */
export const TOKEN_HASH_PREFIX_HEX_CHARS = 16;

// --- Audit events on Analytics Engine ---
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

// --- Analytics SQL API and `npm run analytics` ---
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

// --- The sandbox's dataset (dashboards and `npm run analytics --sandbox` default to it) ---
/** The dataset of the sandbox's AUDIT binding ([[env.sandbox.analytics_engine_datasets]] in wrangler.toml). */
export const SANDBOX_AUDIT_DATASET = "ci_credential_broker_sandbox";
