// Broker configuration: Worker vars and secrets, validated with zod once per isolate (per env object).
// Pure; no I/O. A failure names the offending variable only: values may be secrets and are never echoed.
import * as z from "zod/mini";
import { BrokerError } from "./errors.ts";
import { isHttpsOrLoopback } from "./http/trusted-url.ts";
import { IssuerListSchema, type IssuerConfig } from "./oidc/issuers.ts";

const AWS_REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

const jsonString = z.pipe(
  z.string(),
  z.transform((value: string, ctx) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.issues.push({ code: "custom", message: "not valid JSON", input: value });
      return z.NEVER;
    }
  }),
);

/** An optional string where "" (or blanks, with `trim`) means absent. */
const optionalString = (trim: boolean) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((value: string | undefined) => (value === undefined || (trim ? value.trim() : value) === "" ? undefined : value)),
  );

const EnvSchema = z.object({
  AWS_REGION: z.string().check(z.regex(AWS_REGION_PATTERN)),
  STS_ENDPOINT: optionalString(true).check(
    // Credentials travel in STS answers: https only, plain http only on loopback (the sandbox).
    z.refine((value) => value === undefined || (URL.canParse(value) && isHttpsOrLoopback(new URL(value))), "must be an https URL"),
  ),
  AWS_ACCESS_KEY_ID: z.string().check(z.regex(/^[A-Z0-9]{16,128}$/)),
  AWS_SECRET_ACCESS_KEY: z.string().check(z.minLength(16), z.maxLength(256)),
  AWS_SESSION_TOKEN: optionalString(false),
  ISSUERS: z.pipe(jsonString, IssuerListSchema),
  /** Shadow mode (issue #4): "on" evaluates the candidate policy (policies/candidate.ts) beside the live one. */
  SHADOW_POLICY: z.optional(z.enum(["on", "off"])),
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
