// Requests to the STS emulator and readers of its answers, for its tests: POSTs signed by aws4fetch (the broker's
// signer) or by AWS's own @smithy/signature-v4, one principal, a fixed clock, and the XML values they assert on.
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { AwsClient } from "aws4fetch";
import { createStsEmulator, type StsEmulator, type StsEmulatorOptions } from "../../../sandbox/fakes/sts-emulator.ts";

export const REGION = "us-east-1";
export const ENDPOINT = "https://sts.us-east-1.amazonaws.com/";
export const FORM = "application/x-www-form-urlencoded; charset=utf-8";
/** The emulator's clock at the start of every test. */
export const T0 = Date.UTC(2026, 10, 25, 20, 52, 0);
export const PRINCIPAL = {
  accessKeyId: "AKIAEMULATORTEST0001",
  secretAccessKey: "emulator/test+secret/0000000000000000000",
};
export const ROLE = "arn:aws:iam::123456789012:role/ci/deploy";
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function setup(options: Partial<StsEmulatorOptions> = {}) {
  const clock = { ms: T0 };
  const sts = createStsEmulator({ now: () => clock.ms, principals: [PRINCIPAL], ...options });
  return { sts, clock };
}

export function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
}

export interface SignOptions {
  creds?: Creds;
  atMs?: number;
  region?: string;
  service?: string;
  headers?: Record<string, string>;
}

/** A POST signed by aws4fetch, the signer the broker uses. */
export async function signPost(params: Record<string, string>, opts: SignOptions = {}): Promise<Request> {
  const client = new AwsClient({
    ...(opts.creds ?? PRINCIPAL),
    service: opts.service ?? "sts",
    region: opts.region ?? REGION,
  });
  return await client.sign(ENDPOINT, {
    method: "POST",
    body: new URLSearchParams(params).toString(),
    headers: { "content-type": FORM, ...opts.headers },
    aws: { datetime: amzDate(opts.atMs ?? T0) },
  });
}

export function assumeRoleParams(extra: Record<string, string> = {}): Record<string, string> {
  return { Action: "AssumeRole", Version: "2011-06-15", RoleArn: ROLE, RoleSessionName: "ci-session", ...extra };
}

export const IDENTITY_PARAMS = { Action: "GetCallerIdentity", Version: "2011-06-15" };

export interface Answer {
  status: number;
  contentType: string | null;
  body: string;
  code: string | undefined;
}

export async function send(sts: StsEmulator, request: Request): Promise<Answer> {
  const response = await sts.handler(request);
  const body = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body,
    code: xmlValue(body, "Code"),
  };
}

/** The text of the first `<name>` element, unescaped: enough XML for these flat documents. */
export function xmlValue(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  if (match?.[1] === undefined) return undefined;
  return match[1].replace(
    /&(lt|gt|quot|apos|amp);/g,
    (_, e: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e] ?? "",
  );
}

/** Credentials from an AssumeRole success. */
export function credentialsOf(xml: string): Creds & { sessionToken: string; expiration: string } {
  return {
    accessKeyId: xmlValue(xml, "AccessKeyId") ?? "",
    secretAccessKey: xmlValue(xml, "SecretAccessKey") ?? "",
    sessionToken: xmlValue(xml, "SessionToken") ?? "",
    expiration: xmlValue(xml, "Expiration") ?? "",
  };
}

/** A request rebuilt with one thing changed after signing. */
export function rebuilt(request: Request, body: string, headers: Record<string, string | null> = {}): Request {
  const copy = new Headers(request.headers);
  for (const [name, value] of Object.entries(headers)) {
    if (value === null) copy.delete(name);
    else copy.set(name, value);
  }
  return new Request(request.url, { method: request.method, headers: copy, body });
}

export async function smithySigned(
  init: { method: "GET" | "POST"; query?: Record<string, string>; body?: string; headers?: Record<string, string> },
  creds: Creds = PRINCIPAL,
): Promise<Request> {
  const url = new URL(ENDPOINT);
  const signer = new SignatureV4({ service: "sts", region: REGION, credentials: creds, sha256: Sha256 });
  const signed = await signer.sign(
    {
      method: init.method,
      protocol: url.protocol,
      hostname: url.hostname,
      path: url.pathname,
      query: init.query ?? {},
      headers: { host: url.host, ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
    },
    { signingDate: new Date(T0) },
  );
  const headers = new Headers();
  for (const [name, value] of Object.entries(signed.headers)) if (name !== "host") headers.set(name, value);
  const target = new URL(ENDPOINT);
  for (const [name, value] of Object.entries(init.query ?? {})) target.searchParams.append(name, value);
  return new Request(target, { method: init.method, headers, ...(init.body === undefined ? {} : { body: init.body }) });
}
