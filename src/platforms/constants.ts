// Limits and defaults of the CI platforms themselves (src/platforms/). Unit in the name; one line of why each.

/**
 * Default REST API base for github.com issuers; GHES is `https://HOST/api/v3`, GHE.com `https://api.SUBDOMAIN.ghe.com`.
 */
export const GITHUB_DEFAULT_API_URL = "https://api.github.com";
/** Deepest GitLab namespace whose ancestors the kill switch checks; GitLab allows 20 levels of subgroups. */
export const KILL_SWITCH_MAX_NAMESPACE_DEPTH = 21;
