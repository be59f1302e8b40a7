// Broker configuration: Worker vars and secrets, validated with zod once per isolate (per env object).
// Pure; no I/O. A failure names the offending variable only: values may be secrets and are never echoed.
import * as z from "zod";
import { SHARED_DEFAULT_AUDIENCE } from "./constants.ts";
import { BrokerError } from "./errors.ts";
import { isHttpsOrLoopback, isLoopbackHttp } from "./http/trusted-url.ts";
import { IssuerListSchema, type IssuerConfig } from "./oidc/issuers.ts";

const AWS_REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

const jsonString = z.string().transform((value, ctx) => {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    ctx.addIssue({ code: "custom", message: "not valid JSON" });
    return z.NEVER;
  }
});

const EnvSchema = z.object({
  AWS_REGION: z.string().regex(AWS_REGION_PATTERN),
  STS_ENDPOINT: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === "" ? undefined : value))
    // Credentials travel in STS answers: https only, plain http only on loopback (the sandbox).
    .refine((value) => value === undefined || (URL.canParse(value) && isHttpsOrLoopback(new URL(value))), "must be an https URL"),
  AWS_ACCESS_KEY_ID: z.string().regex(/^[A-Z0-9]{16,128}$/),
  AWS_SECRET_ACCESS_KEY: z.string().min(16).max(256),
  AWS_SESSION_TOKEN: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value === "" ? undefined : value)),
  ISSUERS: jsonString.pipe(IssuerListSchema),
  /** Shadow mode (issue #4): "on" evaluates the candidate policy (policies/candidate.ts) beside the live one. */
  SHADOW_POLICY: z.enum(["on", "off"]).optional(),
});

export interface AwsOptions {
  region: string;
  /** STS endpoint URL: the regional endpoint unless overridden (sandbox, tests). */
  stsEndpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
}

export interface Config {
  aws: AwsOptions;
  issuers: IssuerConfig[];
  /** Evaluate the candidate policy beside the live one and log differences (var SHADOW_POLICY = "on"). */
  shadowPolicy?: boolean;
}

/** Regional STS endpoint: keeps latency low and avoids the legacy global endpoint. */
export function regionalStsEndpoint(region: string): string {
  // AWS China regions live under their own domain (AWS General Reference, "AWS STS endpoints").
  return region.startsWith("cn-") ? `https://sts.${region}.amazonaws.com.cn/` : `https://sts.${region}.amazonaws.com/`;
}

/** Parse and validate the Worker's env. Throws `config_invalid` naming the bad variables only. */
export function parseConfig(env: unknown): Config {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const fields = [...new Set(result.error.issues.map((issue) => issue.path.map(String).join(".")))].join(",");
    throw new BrokerError("config_invalid", "config_invalid", { cause: `invalid settings: ${fields}` });
  }
  const vars = result.data;
  return {
    aws: {
      region: vars.AWS_REGION,
      stsEndpoint: vars.STS_ENDPOINT ?? regionalStsEndpoint(vars.AWS_REGION),
      accessKeyId: vars.AWS_ACCESS_KEY_ID,
      secretAccessKey: vars.AWS_SECRET_ACCESS_KEY,
      sessionToken: vars.AWS_SESSION_TOKEN,
    },
    issuers: vars.ISSUERS,
    shadowPolicy: vars.SHADOW_POLICY === "on",
  };
}

/** A setting that works but weakens the deployment: logged once per isolate (`config_warning`), never fatal. */
export interface ConfigWarning {
  reason: "audience_shared_default";
  /** The ISSUERS id concerned. */
  issuer: string;
}

/**
 * Warnings for a valid configuration. `audience_shared_default`: an issuer outside the sandbox accepts the shared
 * default audience, so tokens minted for any other deployment keeping it are valid here too. "Sandbox" is an issuer
 * on a loopback http URL: only a process on the same machine can mint its tokens, and a deployed Worker cannot reach
 * loopback at all, so sharing the audience there costs nothing. Pure.
 */
export function configWarnings(config: Pick<Config, "issuers">): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  for (const issuer of config.issuers) {
    const sandbox = URL.canParse(issuer.issuer) && isLoopbackHttp(new URL(issuer.issuer));
    if (!sandbox && issuer.audiences.includes(SHARED_DEFAULT_AUDIENCE)) warnings.push({ reason: "audience_shared_default", issuer: issuer.id });
  }
  return warnings;
}

const configCache = new WeakMap<object, Config | BrokerError>();

/**
 * Config for this env object, parsed once: Workers hand every request of an isolate the same env.
 * A bad config is cached too, so a misconfigured deployment fails fast with `config_invalid`.
 */
export function configFor(env: object): Config {
  let entry = configCache.get(env);
  if (entry === undefined) {
    try {
      entry = parseConfig(env);
    } catch (error) {
      entry = error instanceof BrokerError ? error : new BrokerError("config_invalid", "config_invalid", { cause: error });
    }
    configCache.set(env, entry);
  }
  if (entry instanceof BrokerError) throw entry;
  return entry;
}
