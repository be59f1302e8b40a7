// Broker configuration: Worker vars and secrets, validated with zod once per isolate (per env object).
// Pure; no I/O. A failure names the offending variable only: values may be secrets and are never echoed.
import * as z from "zod/mini";
import { regionalStsEndpoint, type AwsOptions, type StsEndpointOptions } from "./aws/options.ts";
import { GITHUB_FACT_CACHE_MS } from "./github/constants.ts";
import { SHARED_DEFAULT_AUDIENCE } from "./oidc/constants.ts";
import { GITHUB_DEFAULT_API_URL } from "./platforms/constants.ts";
import { BrokerError } from "./errors.ts";
import { invalidSettings, jsonString } from "./settings.ts";
import { isHttpsOrLoopback, isLoopbackHttp } from "./http/trusted-url.ts";
import { IssuerListSchema, type IssuerConfig } from "./oidc/issuers.ts";
import { WebIdentityEnvShape, webIdentityOptions, type StsAuthMode, type WebIdentityOptions } from "./idp/config.ts";
import { pemToPkcs8 } from "./crypto/pem.ts";
import type { GitHubAppCredentials } from "./github/api-call.ts";
import type { GitHubTokenAppOptions } from "./github-tokens/setup.ts";

export { invalidSettingPaths, invalidSettings, jsonString } from "./settings.ts";

const AWS_REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

/** An optional string where "" (or blanks, with `trim`) means absent. */
const optionalString = (trim: boolean) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((value: string | undefined) =>
      value === undefined || (trim ? value.trim() : value) === "" ? undefined : value,
    ),
  );

const EnvSchema = z.object({
  AWS_REGION: z.string().check(z.regex(AWS_REGION_PATTERN)),
  STS_ENDPOINT: optionalString(true).check(
    // Credentials travel in STS answers: https only, plain http only on loopback (the sandbox).
    z.refine(
      (value) => value === undefined || (URL.canParse(value) && isHttpsOrLoopback(new URL(value))),
      "must be an https URL",
    ),
  ),
  // Required in sigv4 mode only (checked after parsing: see requiredByMode).
  AWS_ACCESS_KEY_ID: z.optional(z.string().check(z.regex(/^[A-Z0-9]{16,128}$/))),
  AWS_SECRET_ACCESS_KEY: z.optional(z.string().check(z.minLength(16), z.maxLength(256))),
  AWS_SESSION_TOKEN: optionalString(false),
  ISSUERS: z.pipe(jsonString, IssuerListSchema),
  /** Shadow mode: "on" evaluates the candidate policy (policies/candidate.ts) beside the live one. */
  SHADOW_POLICY: z.optional(z.enum(["on", "off"])),
  ...WebIdentityEnvShape,
  /** GitHub App for rule requirements (docs/github-facts.md): its numeric id (var) and private key (secret). */
  GITHUB_APP_ID: z.optional(z.string().check(z.regex(/^(\d{1,12})?$/))),
  GITHUB_APP_PRIVATE_KEY: z.optional(z.string().check(z.maxLength(16_384))),
  /** How long a met requirement is reused, seconds (0..300; default GITHUB_FACT_CACHE_MS). The sandbox sets 0. */
  /** The token App for GitHub token grants (docs/github-tokens.md): never the facts App; write-capable. */
  GITHUB_TOKEN_APP_ID: z.optional(z.string().check(z.regex(/^(\d{1,12})?$/))),
  GITHUB_TOKEN_APP_PRIVATE_KEY: z.optional(z.string().check(z.maxLength(16_384))),
  /**
   * The token App's REST API base, independent of the issuers (default GITHUB_DEFAULT_API_URL; GHES:
   * https://HOST/api/v3).
   */
  GITHUB_TOKEN_API_URL: optionalString(true).check(
    // Tokens travel in its answers: https only, plain http only on loopback (the sandbox).
    z.refine(
      (value) =>
        value === undefined || (URL.canParse(value) && isHttpsOrLoopback(new URL(value)) && !value.endsWith("/")),
      "must be an https URL without a trailing slash",
    ),
  ),
  GITHUB_FACT_CACHE_SECONDS: z.optional(
    z.string().check(
      z.regex(/^(\d{1,3})?$/),
      z.refine((value) => value === "" || Number(value) <= 300),
    ),
  ),
});

interface BaseConfig {
  issuers: IssuerConfig[];
  /** Evaluate the candidate policy beside the live one and log differences (var SHADOW_POLICY = "on"). */
  shadowPolicy?: boolean;
  /** The GitHub App (GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY), when configured; rules with `require` need it. */
  githubApp?: GitHubAppCredentials | undefined;
  /** Lifetime of a met requirement in the fact cache, ms (var GITHUB_FACT_CACHE_SECONDS). */
  githubFactCacheMs?: number;
  /**
   * The token App (GITHUB_TOKEN_APP_ID + GITHUB_TOKEN_APP_PRIVATE_KEY) and its API base, when configured; grants need
   * it.
   */
  githubTokenApp?: GitHubTokenAppOptions | undefined;
}

/** STS_AUTH = "sigv4" (the default): AssumeRole signed with the broker's access key. */
export interface SigV4Config extends BaseConfig {
  stsAuth: "sigv4";
  aws: AwsOptions;
}

/**
 * STS_AUTH = "web-identity": the broker is an OIDC provider; AssumeRoleWithWebIdentity, unsigned (docs/deployment.md).
 */
export interface WebIdentityConfig extends BaseConfig {
  stsAuth: "web-identity";
  aws: StsEndpointOptions;
  webIdentity: WebIdentityOptions;
}

export type Config = SigV4Config | WebIdentityConfig;
export type { StsAuthMode, WebIdentityOptions };

/** Parse and validate the Worker's env. Throws `config_invalid` naming the bad variables only. */
export function parseConfig(env: unknown): Config {
  const result = EnvSchema.safeParse(env);
  if (!result.success) throw invalidSettings("config_invalid", result.error);
  const vars = result.data;
  const endpoint = { region: vars.AWS_REGION, stsEndpoint: vars.STS_ENDPOINT ?? regionalStsEndpoint(vars.AWS_REGION) };
  const base = {
    issuers: vars.ISSUERS,
    shadowPolicy: vars.SHADOW_POLICY === "on",
    githubApp: parseGitHubApp(vars.GITHUB_APP_ID, vars.GITHUB_APP_PRIVATE_KEY, FACTS_APP_VARS),
    githubTokenApp: parseTokenApp(vars),
    githubFactCacheMs:
      vars.GITHUB_FACT_CACHE_SECONDS === undefined || vars.GITHUB_FACT_CACHE_SECONDS === ""
        ? GITHUB_FACT_CACHE_MS
        : Number(vars.GITHUB_FACT_CACHE_SECONDS) * 1000,
  };
  if (vars.STS_AUTH === "web-identity") {
    // No AWS key is read in this mode, even when one is set: the broker holds none it could leak.
    const webIdentity = webIdentityOptions(vars);
    if ("missing" in webIdentity) throw invalidSettings("config_invalid", webIdentity.missing);
    return { ...base, stsAuth: "web-identity", aws: endpoint, webIdentity };
  }
  const missing = (["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const).filter((name) => vars[name] === undefined);
  if (missing.length > 0 || vars.AWS_ACCESS_KEY_ID === undefined || vars.AWS_SECRET_ACCESS_KEY === undefined) {
    throw invalidSettings("config_invalid", missing);
  }
  return {
    ...base,
    stsAuth: "sigv4",
    aws: {
      ...endpoint,
      accessKeyId: vars.AWS_ACCESS_KEY_ID,
      secretAccessKey: vars.AWS_SECRET_ACCESS_KEY,
      sessionToken: vars.AWS_SESSION_TOKEN,
    },
  };
}

const FACTS_APP_VARS = ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY"] as const;
const TOKEN_APP_VARS = ["GITHUB_TOKEN_APP_ID", "GITHUB_TOKEN_APP_PRIVATE_KEY"] as const;

/**
 * The token App, or undefined. Never the facts App (reason `github_token_app_is_facts_app`): one App would then hold
 * the write permissions grants need beside the read-only ones facts need, and every facts token could ask for them.
 */
function parseTokenApp(vars: {
  GITHUB_APP_ID?: string | undefined;
  GITHUB_TOKEN_APP_ID?: string | undefined;
  GITHUB_TOKEN_APP_PRIVATE_KEY?: string | undefined;
  GITHUB_TOKEN_API_URL?: string | undefined;
}): GitHubTokenAppOptions | undefined {
  const app = parseGitHubApp(vars.GITHUB_TOKEN_APP_ID, vars.GITHUB_TOKEN_APP_PRIVATE_KEY, TOKEN_APP_VARS);
  if (app === undefined) return undefined;
  if (app.appId === vars.GITHUB_APP_ID?.trim()) {
    throw new BrokerError("config_invalid", "github_token_app_is_facts_app", {
      cause: "GITHUB_TOKEN_APP_ID must name another App than GITHUB_APP_ID",
    });
  }
  return { app, apiUrl: vars.GITHUB_TOKEN_API_URL ?? GITHUB_DEFAULT_API_URL };
}

/** Both or neither: an id without a key (or a key without an id) is a half-done setup, refused at start. */
function parseGitHubApp(
  appId: string | undefined,
  privateKey: string | undefined,
  names: readonly [id: string, key: string],
): GitHubAppCredentials | undefined {
  const id = appId?.trim() ?? "";
  const key = privateKey?.trim() ?? "";
  if (id === "" && key === "") return undefined;
  const bad: string[] = [];
  if (id === "") bad.push(names[0]);
  let pkcs8: Uint8Array | undefined;
  try {
    pkcs8 = pemToPkcs8(key);
  } catch {
    bad.push(names[1]);
  }
  if (bad.length > 0 || pkcs8 === undefined) throw invalidSettings("config_invalid", bad);
  return { appId: id, pkcs8 };
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
    if (!isLocalIssuer(issuer) && issuer.audiences.includes(SHARED_DEFAULT_AUDIENCE))
      warnings.push({ reason: "audience_shared_default", issuer: issuer.id });
  }
  return warnings;
}

/** An issuer on a loopback http URL: the sandbox's. Only a process on the same machine can mint its tokens. */
export function isLocalIssuer(issuer: Pick<IssuerConfig, "issuer">): boolean {
  return URL.canParse(issuer.issuer) && isLoopbackHttp(new URL(issuer.issuer));
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
      entry =
        error instanceof BrokerError ? error : new BrokerError("config_invalid", "config_invalid", { cause: error });
    }
    configCache.set(env, entry);
  }
  if (entry instanceof BrokerError) throw entry;
  return entry;
}
