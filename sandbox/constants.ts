// Constants of the local sandbox (`npm start`); never part of the deployed Worker.
// Unit in the name; one line of why each. Changing one changes behaviour a client or operator can see: note it in
// docs/.

// --- Ports, audience, startup ---
/** Where `npm start` serves the broker (wrangler dev). */
export const SANDBOX_BROKER_PORT = 8787;
/** Audience the sandbox issuer puts in tokens; matches the ISSUERS entry of [env.sandbox]. */
export const SANDBOX_AUDIENCE = "ci-credential-broker";
/** How long `npm start` waits for wrangler dev to answer /healthz before giving up. */
export const SANDBOX_STARTUP_TIMEOUT_MS = 60_000;
