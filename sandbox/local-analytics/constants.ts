// Limits of the sandbox's local Analytics Engine (chdb); never part of the deployed Worker.
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

// --- Install and SQL API ---
/** Longest the first-use install of chdb may take: a 180 MB download on a slow link. */
export const CHDB_INSTALL_TIMEOUT_MS = 5 * 60_000;
/**
 * Largest SQL text the local SQL API reads: our longest query is about 2 KB; Grafana's expanded panels a little more.
 */
export const LOCAL_SQL_MAX_BODY_BYTES = 64 * 1024;
