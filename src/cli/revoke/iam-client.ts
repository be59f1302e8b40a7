// IAM's Query API, the five calls `npm run revoke` makes: POST form bodies signed with SigV4 by aws4fetch (service
// `iam`), sent with the injected fetch, Throttling and 5xx retried with backoff, XML answers read strictly
// (../../aws/xml.ts).
// I/O through the injected fetch and sleep only; no node:*. https://docs.aws.amazon.com/IAM/latest/APIReference/
import { AwsV4Signer } from "aws4fetch";
import {
  IAM_BACKOFF_BASE_MS,
  IAM_CALL_TIMEOUT_MS,
  IAM_MAX_ATTEMPTS,
  IAM_MAX_RESPONSE_BYTES,
  IAM_MAX_XML_DEPTH,
} from "./constants.ts";
import type { Clock, FetchFn, Sleep } from "../../deps.ts";
import { readTextCapped } from "../../http/read-capped.ts";
import { parseXml, type XmlElement } from "../../aws/xml.ts";

const IAM_API_VERSION = "2010-05-08";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface IamClientOptions {
  /** `https://iam.amazonaws.com` (aws partition), or a fake's URL. */
  endpoint: string;
  /** SigV4 signing region of that endpoint: `us-east-1` for the aws partition. */
  region: string;
  credentials: AwsCredentials;
  fetch: FetchFn;
  sleep: Sleep;
  /** The signing time (SigV4's X-Amz-Date): IAM refuses a signature more than 5 minutes off its clock. */
  now: Clock;
}

/**
 * An IAM call that failed: AWS's error code (`NoSuchEntity`, `AccessDenied`, …) and message, or a transport problem.
 */
export class IamError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  constructor(code: string, message: string, status?: number) {
    super(message);
    this.name = "IamError";
    this.code = code;
    this.status = status;
  }
}

export interface IamRole {
  arn: string;
  roleName: string;
}

export interface IamClient {
  getRole(roleName: string): Promise<IamRole>;
  /** Every inline policy name of the role (all pages). */
  listRolePolicies(roleName: string): Promise<string[]>;
  /** The document of one inline policy, decoded (IAM answers it URL-encoded, RFC 3986). */
  getRolePolicy(roleName: string, policyName: string): Promise<string>;
  putRolePolicy(roleName: string, policyName: string, document: string): Promise<void>;
  deleteRolePolicy(roleName: string, policyName: string): Promise<void>;
}

function child(parent: XmlElement, name: string): XmlElement {
  const matches = parent.children.filter((element) => element.name === name);
  if (matches.length !== 1) throw new IamError("bad_response", `IAM's answer has no single ${name} in ${parent.name}`);
  return matches[0] as XmlElement;
}

function parseBody(xml: string, action: string): XmlElement {
  let root: XmlElement;
  try {
    root = parseXml(xml, IAM_MAX_XML_DEPTH);
  } catch {
    throw new IamError("bad_response", `IAM's answer to ${action} is not XML`);
  }
  if (root.name !== `${action}Response`) throw new IamError("bad_response", `IAM answered ${action} with ${root.name}`);
  return root;
}

/** `<ErrorResponse><Error><Code/><Message/></Error>`, or undefined when the body is not one (a proxy's HTML page). */
function parseError(xml: string): { code: string; message: string } | undefined {
  try {
    const root = parseXml(xml, IAM_MAX_XML_DEPTH);
    if (root.name !== "ErrorResponse") return undefined;
    const error = child(root, "Error");
    const code = child(error, "Code").text;
    const message = error.children.find((element) => element.name === "Message")?.text ?? "";
    return /^[A-Za-z][\w.]{0,127}$/.test(code) ? { code, message } : undefined;
  } catch {
    return undefined;
  }
}

const retryable = (status: number, code: string | undefined) =>
  status >= 500 || code === "Throttling" || code === "RequestLimitExceeded";

export function createIamClient(options: IamClientOptions): IamClient {
  async function attempt(body: string): Promise<{ status: number; text: string }> {
    const signed = await new AwsV4Signer({
      url: options.endpoint,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      body,
      accessKeyId: options.credentials.accessKeyId,
      secretAccessKey: options.credentials.secretAccessKey,
      ...(options.credentials.sessionToken === undefined ? {} : { sessionToken: options.credentials.sessionToken }),
      service: "iam",
      region: options.region,
      datetime: new Date(options.now()).toISOString().replace(/[:-]|\.\d{3}/g, ""),
    }).sign();
    let response: Response;
    try {
      response = await options.fetch(
        new Request(signed.url, {
          method: "POST",
          headers: signed.headers,
          body,
          redirect: "manual",
          signal: AbortSignal.timeout(IAM_CALL_TIMEOUT_MS),
        }),
      );
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      throw new IamError(
        timedOut ? "timeout" : "network",
        timedOut
          ? `no answer from ${options.endpoint} within ${IAM_CALL_TIMEOUT_MS / 1000} s`
          : `cannot reach ${options.endpoint}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const read = await readTextCapped(response, IAM_MAX_RESPONSE_BYTES);
    if (!read.ok)
      throw new IamError("bad_response", `IAM's answer could not be read (${read.failure})`, response.status);
    return { status: response.status, text: read.text };
  }

  /** One action: its parameters in, the parsed success body out; retried on Throttling and 5xx. */
  async function call(action: string, params: Record<string, string>): Promise<XmlElement> {
    const body = new URLSearchParams({ Action: action, Version: IAM_API_VERSION, ...params }).toString();
    for (let attemptNumber = 1; ; attemptNumber++) {
      const { status, text } = await attempt(body);
      if (status === 200) return parseBody(text, action);
      const error = parseError(text);
      if (attemptNumber < IAM_MAX_ATTEMPTS && retryable(status, error?.code)) {
        await options.sleep(IAM_BACKOFF_BASE_MS * 2 ** (attemptNumber - 1));
        continue;
      }
      if (error === undefined)
        throw new IamError("bad_response", `IAM answered HTTP ${status} without an AWS error body`, status);
      throw new IamError(error.code, error.message, status);
    }
  }

  return {
    async getRole(roleName) {
      const role = child(child(await call("GetRole", { RoleName: roleName }), "GetRoleResult"), "Role");
      return { arn: child(role, "Arn").text, roleName: child(role, "RoleName").text };
    },
    async listRolePolicies(roleName) {
      const names: string[] = [];
      let marker: string | undefined;
      do {
        const result = child(
          await call("ListRolePolicies", { RoleName: roleName, ...(marker === undefined ? {} : { Marker: marker }) }),
          "ListRolePoliciesResult",
        );
        names.push(...child(result, "PolicyNames").children.map((member) => member.text));
        marker = child(result, "IsTruncated").text === "true" ? child(result, "Marker").text : undefined;
      } while (marker !== undefined);
      return names;
    },
    async getRolePolicy(roleName, policyName) {
      const encoded = child(
        child(await call("GetRolePolicy", { RoleName: roleName, PolicyName: policyName }), "GetRolePolicyResult"),
        "PolicyDocument",
      ).text;
      try {
        return decodeURIComponent(encoded);
      } catch {
        throw new IamError("bad_response", "IAM's policy document is not URL-encoded");
      }
    },
    async putRolePolicy(roleName, policyName, document) {
      await call("PutRolePolicy", { RoleName: roleName, PolicyName: policyName, PolicyDocument: document });
    },
    async deleteRolePolicy(roleName, policyName) {
      await call("DeleteRolePolicy", { RoleName: roleName, PolicyName: policyName });
    },
  };
}
