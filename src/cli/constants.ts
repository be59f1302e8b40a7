// Constants of the operator's command-line tools (`npm run analytics`, `npm run smoke`) and where they find the
// sandbox.
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

// --- Terminal charts of `npm run analytics` ---
/** Height of the terminal chart, in text rows (each row has 8 levels). */
export const ANALYTICS_CHART_HEIGHT_ROWS = 8;
/** Widest chart plot, in columns: fits an 80-column terminal with the axis labels. */
export const ANALYTICS_CHART_MAX_WIDTH_COLUMNS = 64;

// --- The local sandbox (`npm start`), a target of the tools ---
/** Where `npm start` serves the fake OIDC issuer and the STS emulator. */
export const SANDBOX_PORT = 8788;

// --- The sandbox's local Analytics Engine (chdb) ---
/**
 * The sandbox's Cloudflare account id and API token for its local SQL API (placeholders: nothing real is behind them).
 */
export const SANDBOX_ANALYTICS_ACCOUNT_ID = "0123456789abcdef0123456789abcdef";
export const SANDBOX_ANALYTICS_API_TOKEN = "sandbox-analytics-token";

// --- Post-deploy smoke test ---
/** Timeout of each call the post-deploy smoke test makes (`npm run smoke`): the broker's own STS deadline is 8 s. */
export const SMOKE_TIMEOUT_MS = 15_000;
