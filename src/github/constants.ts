// Limits of the broker's GitHub App client: App JWTs, installation tokens, caches, budgets and paging
// (docs/github-facts.md).
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

// --- REST API ---
/** REST API version we send (`X-GitHub-Api-Version`) and whose response shapes we parse. */
export const GITHUB_API_VERSION = "2022-11-28";
/** How far in the past an App JWT's `iat` is set: GitHub recommends 60 s to absorb clock drift. */
export const GITHUB_APP_JWT_BACKDATE_SECONDS = 60;
/**
 * App JWT lifetime from `iat`; GitHub refuses `exp` more than 10 minutes ahead, so 9 min after a 60 s backdate is 8 min
 * ahead.
 */
export const GITHUB_APP_JWT_LIFETIME_SECONDS = 9 * 60;
/** Reuse a signed App JWT while it has at least this long left (one JWT signs many installation-token requests). */
export const GITHUB_APP_JWT_REFRESH_MARGIN_SECONDS = 2 * 60;
/** Stop using an installation token this long before its `expires_at` (tokens live 1 h; in-flight calls need slack). */
export const GITHUB_TOKEN_REFRESH_MARGIN_MS = 5 * 60 * 1000;
/**
 * How long one repository's installation id is remembered: installations change rarely; a removal then shows as
 * 401/404.
 */
export const GITHUB_INSTALLATION_CACHE_MS = 10 * 60 * 1000;
/**
 * Positive facts (a satisfied requirement) are reused this long per (repository id, sha, requirement); failures never.
 */
export const GITHUB_FACT_CACHE_MS = 60 * 1000;
/** Most cached facts/installations one isolate keeps; past this the oldest are dropped (bounded memory). */
export const GITHUB_CACHE_MAX_ENTRIES = 5_000;
/** Timeout of one GitHub API call; the API answers in ~100-500 ms when healthy. */
export const GITHUB_CALL_TIMEOUT_MS = 2_000;
/**
 * All GitHub calls of one exchange together: verification + this + STS_DEADLINE_MS stays under the client's 15 s
 * attempt.
 */
export const GITHUB_BUDGET_MS = 4_000;
/** Largest GitHub response body we read; 100 reviews or check runs are ~100-300 KiB. */
export const MAX_GITHUB_RESPONSE_BYTES = 512 * 1024;
/** Items per page we ask for (`per_page`): GitHub's maximum. */
export const GITHUB_PAGE_SIZE = 100;
/** Most pages followed through `Link: rel="next"`: 10 x 100 reviews or check runs is beyond any real pull request. */
export const GITHUB_MAX_PAGES = 10;
/** Retry-After when GitHub rate-limits without saying how long: its docs say to wait at least a minute. */
export const GITHUB_RATE_LIMIT_DEFAULT_RETRY_AFTER_SECONDS = 60;
/**
 * Longest Retry-After we pass on from GitHub (a primary limit resets within the hour; clients should not sleep longer).
 */
export const GITHUB_RATE_LIMIT_MAX_RETRY_AFTER_SECONDS = 15 * 60;
