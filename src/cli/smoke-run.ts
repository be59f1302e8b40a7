// The core of `npm run smoke`: one real exchange against a deployed broker (optionally pinned to a Worker version
// with the Cloudflare-Workers-Version-Overrides header), then STS GetCallerIdentity with the credentials it issued.
// Platform-neutral; fetch, env and the clock are injected. Used by the release workflow between the gradual
// deployment's small percentage and 100 % (docs/deployment.md, "Release workflow").
import { AwsClient } from "aws4fetch";
import { regionalStsEndpoint } from "../config.ts";
import type { FetchFn } from "../deps.ts";
import { actionsTokenSource, envTokenSource, type TokenSource } from "../client/token-source.ts";
import { isHttpsOrLoopback } from "../http/trusted-url.ts";
import { readTextCapped } from "../http/read-capped.ts";
import { MAX_STS_RESPONSE_BYTES } from "../aws/constants.ts";
import { SMOKE_TIMEOUT_MS } from "./constants.ts";
import { MAX_BROKER_RESPONSE_BYTES } from "../client/constants.ts";
import type { CliResult } from "./policy-run.ts";

export interface SmokeArgs {
  broker: string;
  audience: string;
  role: string | undefined;
  /** Worker name and version id for Cloudflare-Workers-Version-Overrides; both or neither. */
  workerName: string | undefined;
  versionId: string | undefined;
  /** Read the OIDC token from this environment variable instead of the GitHub Actions token endpoint. */
  tokenEnv: string | undefined;
  region: string;
  stsEndpoint: string | undefined;
  /** The caller ARN must contain this (e.g. `:assumed-role/ci-smoke/`). */
  expectArn: string | undefined;
}

export interface SmokeDeps {
  fetch: FetchFn;
  env: (name: string) => string | undefined;
  now: () => number;
}

const USAGE = `usage: npm run smoke -- --broker <url> --audience <aud> [--role <alias>] [--worker-name <name> --version-id <id>]
       [--token-env <VAR>] [--region <region>] [--sts-endpoint <url>] [--expect-arn <substring>]
Without --token-env the token comes from the GitHub Actions token endpoint (the job needs permissions: id-token: write).`;

const VALUE_FLAGS = [
  "--broker",
  "--audience",
  "--role",
  "--worker-name",
  "--version-id",
  "--token-env",
  "--region",
  "--sts-endpoint",
  "--expect-arn",
] as const;

/** Parses argv; throws an Error whose message is the problem (the CLI prints it with the usage). */
export function parseSmokeArgs(argv: string[]): SmokeArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    if (!(VALUE_FLAGS as readonly string[]).includes(flag)) throw new Error(`unknown option ${flag}`);
    if (value === undefined || value.startsWith("--")) throw new Error(`${flag} needs a value`);
    values.set(flag, value);
  }
  const broker = values.get("--broker");
  const audience = values.get("--audience");
  if (broker === undefined || !URL.canParse(broker) || !isHttpsOrLoopback(new URL(broker)))
    throw new Error("--broker must be an https URL (http only on loopback)");
  if (audience === undefined) throw new Error("--audience is required (the broker's audience in ISSUERS)");
  const workerName = values.get("--worker-name");
  const versionId = values.get("--version-id");
  if ((workerName === undefined) !== (versionId === undefined))
    throw new Error("--worker-name and --version-id go together");
  if (versionId !== undefined && !/^[0-9a-f-]{36}$/.test(versionId))
    throw new Error("--version-id must be a Worker version id (a UUID)");
  if (workerName !== undefined && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(workerName))
    throw new Error("--worker-name must be a Worker name");
  const stsEndpoint = values.get("--sts-endpoint");
  if (stsEndpoint !== undefined && (!URL.canParse(stsEndpoint) || !isHttpsOrLoopback(new URL(stsEndpoint))))
    throw new Error("--sts-endpoint must be an https URL");
  return {
    broker: broker.replace(/\/+$/, ""),
    audience,
    role: values.get("--role"),
    workerName,
    versionId,
    tokenEnv: values.get("--token-env"),
    region: values.get("--region") ?? "us-east-1",
    stsEndpoint,
    expectArn: values.get("--expect-arn"),
  };
}

/**
 * Cloudflare-Workers-Version-Overrides: `<worker-name>="<version-id>"` (a Structured Fields dictionary), which routes
 * this request to that version while a gradual deployment holds it
 * (https://developers.cloudflare.com/workers/configuration/versions-and-deployments/gradual-deployments/#version-overrides).
 */
export function versionOverrideHeader(workerName: string, versionId: string): string {
  return `${workerName}="${versionId}"`;
}

function tokenSource(args: SmokeArgs, deps: SmokeDeps): TokenSource {
  return args.tokenEnv !== undefined
    ? envTokenSource(args.tokenEnv, deps.env)
    : actionsTokenSource({
        requestUrl: deps.env("ACTIONS_ID_TOKEN_REQUEST_URL"),
        requestToken: deps.env("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        audience: args.audience,
        fetch: deps.fetch,
      });
}

const fail = (line: string): CliResult => ({ stdout: "", stderr: `smoke: FAIL ${line}\n`, exitCode: 1 });

/** One exchange and one GetCallerIdentity. Exit 0 and the caller ARN on success; exit 1 and one reason otherwise. */
export async function runSmoke(argv: string[], deps: SmokeDeps): Promise<CliResult> {
  let args: SmokeArgs;
  try {
    args = parseSmokeArgs(argv);
  } catch (error) {
    return { stdout: "", stderr: `smoke: ${(error as Error).message}\n${USAGE}\n`, exitCode: 2 };
  }
  let token: string;
  try {
    token = await tokenSource(args, deps).mint();
  } catch (error) {
    return fail(`no OIDC token: ${(error as Error).message}`);
  }
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  if (args.workerName !== undefined && args.versionId !== undefined)
    headers["cloudflare-workers-version-overrides"] = versionOverrideHeader(args.workerName, args.versionId);
  let answer: Response;
  try {
    answer = await deps.fetch(`${args.broker}/v1/credentials`, {
      method: "POST",
      headers,
      body: JSON.stringify(args.role === undefined ? {} : { role: args.role }),
      signal: AbortSignal.timeout(SMOKE_TIMEOUT_MS),
      redirect: "manual",
    });
  } catch (error) {
    return fail(`broker unreachable (${(error as Error).name})`);
  }
  const answerText = await readTextCapped(answer, MAX_BROKER_RESPONSE_BYTES);
  const text = "text" in answerText ? answerText.text : "";
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return fail(`broker answered HTTP ${answer.status} without JSON`);
  }
  if (answer.status !== 200)
    return fail(`broker answered HTTP ${answer.status} ${String(body.error)} (request ${String(body.request_id)})`);
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = body;
  if (
    typeof AccessKeyId !== "string" ||
    typeof SecretAccessKey !== "string" ||
    typeof SessionToken !== "string" ||
    typeof Expiration !== "string"
  ) {
    return fail("broker answered 200 without credential_process credentials");
  }
  const client = new AwsClient({
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    sessionToken: SessionToken,
    service: "sts",
    region: args.region,
    retries: 0,
  });
  let identity: Response;
  try {
    identity = await deps.fetch(
      await client.sign(args.stsEndpoint ?? regionalStsEndpoint(args.region), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
        body: "Action=GetCallerIdentity&Version=2011-06-15",
        aws: { datetime: new Date(deps.now()).toISOString().replace(/[:-]|\.\d{3}/g, "") },
      }),
      { signal: AbortSignal.timeout(SMOKE_TIMEOUT_MS) },
    );
  } catch (error) {
    return fail(`STS unreachable (${(error as Error).name})`);
  }
  const read = await readTextCapped(identity, MAX_STS_RESPONSE_BYTES);
  const xml = "text" in read ? read.text : "";
  const arn = /<Arn>([^<]{1,2048})<\/Arn>/.exec(xml)?.[1];
  if (identity.status !== 200 || arn === undefined)
    return fail(
      `GetCallerIdentity answered HTTP ${identity.status} ${/<Code>([A-Za-z.]{1,64})<\/Code>/.exec(xml)?.[1] ?? ""}`.trim(),
    );
  if (args.expectArn !== undefined && !arn.includes(args.expectArn))
    return fail(`caller ${arn} does not contain ${args.expectArn}`);
  const version = args.versionId === undefined ? "" : ` (version ${args.versionId})`;
  return { stdout: `smoke: ok${version}: ${arn}, credentials expire ${Expiration}\n`, stderr: "", exitCode: 0 };
}
