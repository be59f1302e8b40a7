// One wrangler environment as `npm run preflight` checks it: vars, bindings, placement and the declared secrets, after
// wrangler's own resolution (src/cli/preflight.ts reads wrangler.toml with wrangler's config reader, so inheritance is
// wrangler's: vars, secrets and bindings are per environment, placement and triggers are inherited).
// Pure; no I/O. Platform-neutral (no node:*), so the Workers test pool covers it.

/** The parts of wrangler's resolved configuration preflight reads (structurally a subset of wrangler's `Config`). */
export interface WranglerEnvironmentConfig {
  vars?: Record<string, unknown>;
  kv_namespaces?: ReadonlyArray<{ binding: string; id?: string | undefined }>;
  durable_objects?: { bindings?: ReadonlyArray<{ name: string; class_name?: string | undefined }> };
  ratelimits?: ReadonlyArray<{ name: string }>;
  analytics_engine_datasets?: ReadonlyArray<{ binding: string; dataset?: string | undefined }>;
  placement?: { mode?: string | undefined; region?: string | undefined } | undefined;
  secrets?: { required?: ReadonlyArray<string> | undefined } | undefined;
  triggers?: { crons?: ReadonlyArray<string> | undefined } | undefined;
}

export interface DeploymentEnv {
  /** As shown to the operator: `top level` or `env.<name>`. */
  label: string;
  /** [vars] of this environment only (vars are not inherited). */
  vars: Readonly<Record<string, unknown>>;
  /** Binding name -> namespace id, per binding kind. */
  kvNamespaces: ReadonlyArray<{ binding: string; id: string | undefined }>;
  durableObjects: ReadonlyArray<string>;
  rateLimits: ReadonlyArray<string>;
  analyticsEngine: ReadonlyArray<{ binding: string; dataset: string | undefined }>;
  /** `[placement] region`, e.g. `aws:us-east-1`; undefined when unset or Smart Placement. */
  placementRegion: string | undefined;
  /** `[secrets] required`: the names `wrangler deploy` refuses to deploy without. */
  requiredSecrets: ReadonlyArray<string>;
  /** `[triggers] crons` (inherited by environments): the alert cron Worker's schedule; none on the request Worker. */
  crons: ReadonlyArray<string>;
}

export function deploymentEnvFrom(config: WranglerEnvironmentConfig, environment: string | undefined): DeploymentEnv {
  return {
    label: environment === undefined ? "top level" : `env.${environment}`,
    vars: config.vars ?? {},
    kvNamespaces: (config.kv_namespaces ?? []).map(({ binding, id }) => ({ binding, id })),
    durableObjects: (config.durable_objects?.bindings ?? []).map((binding) => binding.name),
    rateLimits: (config.ratelimits ?? []).map((binding) => binding.name),
    analyticsEngine: (config.analytics_engine_datasets ?? []).map(({ binding, dataset }) => ({ binding, dataset })),
    placementRegion: config.placement?.region,
    requiredSecrets: [...(config.secrets?.required ?? [])],
    crons: [...(config.triggers?.crons ?? [])],
  };
}

/**
 * Secret names, never values, from one of: the JSON `wrangler secret list --format json` prints
 * (`[{"name": …, "type": "secret_text"}]`), a JSON object of name -> value (the file `wrangler deploy --secrets-file`
 * and `wrangler secret bulk` take), or a dotenv file (`.dev.vars`: `NAME=value` lines; quoted values may span lines).
 * Returns a string to print when the text is none of these.
 */
export function secretNamesFrom(text: string): string[] | string {
  const trimmed = text.trim();
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return "not valid JSON";
    }
    if (Array.isArray(parsed)) {
      const names = parsed.map((entry: unknown) =>
        typeof entry === "object" && entry !== null ? (entry as { name?: unknown }).name : entry,
      );
      return names.every((name): name is string => typeof name === "string")
        ? names
        : 'a JSON list must hold names or {"name": …} objects (wrangler secret list --format json)';
    }
    return Object.keys(parsed as object);
  }
  return dotenvNames(text);
}

const DOTENV_ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/**
 * The names a dotenv file assigns. A value opened with a quote that does not close on its line runs on to the line that
 * closes it.
 */
function dotenvNames(text: string): string[] {
  const names: string[] = [];
  let openQuote: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (openQuote !== undefined) {
      if (line.includes(openQuote)) openQuote = undefined;
      continue;
    }
    if (/^\s*(#|$)/.test(line)) continue;
    const assignment = DOTENV_ASSIGNMENT.exec(line);
    if (assignment === null) continue;
    names.push(assignment[1] as string);
    const value = (assignment[2] as string).trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === "`") && (value.length === 1 || !value.slice(1).includes(quote)))
      openQuote = quote;
  }
  return names;
}
