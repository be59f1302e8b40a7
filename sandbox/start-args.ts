// `npm start [-- --verbose] [--shadow] [--credential-lifetime SECONDS] [--web-identity]`: the flags, and the wrangler
// dev command they
// make. Pure; no I/O. docs/sandbox.md.

export interface StartOptions {
  /** Full JSON log lines and wrangler's own output, instead of one line per exchange. */
  verbose: boolean;
  /** SHADOW_POLICY=on for this run: the candidate policy (policies/candidate.ts) decides beside the live one. */
  shadow: boolean;
  /** The sandbox STS's credentials expire after this many seconds (clients' renewal, watched). */
  credentialLifetimeSeconds: number | undefined;
  /**
   * STS_AUTH = "web-identity": the broker is an OpenID provider the sandbox STS trusts; no AWS key signs
   * (docs/deployment.md).
   */
  webIdentity: boolean;
}

export const START_USAGE =
  "usage: npm start [-- [--verbose] [--shadow] [--credential-lifetime SECONDS] [--web-identity]]";

/** Throws an Error whose message is the usage problem. */
export function parseStartArgs(args: readonly string[]): StartOptions {
  const options: StartOptions = {
    verbose: false,
    shadow: false,
    credentialLifetimeSeconds: undefined,
    webIdentity: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--verbose") options.verbose = true;
    else if (arg === "--shadow") options.shadow = true;
    else if (arg === "--web-identity") options.webIdentity = true;
    else if (arg === "--credential-lifetime") {
      const value = args[++i] ?? "";
      const seconds = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
      if (!(seconds >= 1)) throw new Error(`--credential-lifetime takes whole seconds, not "${value}"`);
      options.credentialLifetimeSeconds = seconds;
    } else throw new Error(`unknown argument "${arg}"`);
  }
  return options;
}

/**
 * The one line a second `npm start` prints: which port is taken and how to find or stop what holds it. `ss` is
 * iproute2's socket lister (Linux); `lsof` the same on macOS.
 */
export function portInUseMessage(host: string, port: number): string {
  return `npm start: port ${port} on ${host} is in use, probably by another npm start: stop it (Ctrl-C in its terminal), or find what listens with \`ss -ltnp 'sport = :${port}'\` (macOS: \`lsof -nP -iTCP:${port} -sTCP:LISTEN\`)`;
}

export interface WranglerDevTarget {
  host: string;
  port: number;
  /** Local KV and Durable Object state (emptied at every start; `npm run sandbox -- kill` writes there too). */
  persistTo: string;
  /**
   * The Worker module to run instead of wrangler.toml's `main` (the project's end-to-end tests run the test policy's).
   */
  entry?: string;
}

/** The arguments after `wrangler`. */
export function wranglerDevArgs(options: StartOptions, target: WranglerDevTarget): string[] {
  return [
    "dev",
    ...(target.entry === undefined ? [] : [target.entry]),
    "--env",
    "sandbox",
    "--ip",
    target.host,
    "--port",
    String(target.port),
    "--show-interactive-dev-session=false",
    "--persist-to",
    target.persistTo,
    // "log" lets the Worker's console lines through (the exchange lines are made from them); "warn" would hide them.
    // What is shown of the rest is sandbox/log-view.ts's choice.
    "--log-level",
    "log",
    ...(options.shadow ? ["--var", "SHADOW_POLICY:on"] : []),
  ];
}
