// Strict reading of STS's XML answers: AssumeRole(WithWebIdentity) credentials, and the code of an error response.
// Pure; no I/O; no clock. Anything unexpected in a success body is `upstream_unavailable`/`sts_bad_response`.
// Response shape: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_Examples
import { BrokerError } from "../errors.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../http/constants.ts";
import { MAX_STS_RESPONSE_BYTES, MAX_STS_XML_DEPTH } from "./constants.ts";
import { STS_API_VERSION } from "./sts-request.ts";
import { parseXml, type XmlElement } from "./xml.ts";

/** The namespace of every STS response for our API version. */
export const STS_XML_NAMESPACE = `https://sts.amazonaws.com/doc/${STS_API_VERSION}/`;

export interface StsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601 UTC, exactly as STS sent it (e.g. `2019-11-09T13:34:41Z`). */
  expiration: string;
}

/** An STS error, reduced to what is safe to keep: its Message embeds role ARNs and account ids, so it is dropped. */
export interface StsErrorInfo {
  type: string | undefined;
  code: string;
}

// Temporary credentials carry ASIA; AKIA (long-term) is tolerated since STS documents only "string, 16-128".
const ACCESS_KEY_ID = /^(?:ASIA|AKIA)[A-Z0-9]{12,124}$/;
// Secret and token: printable ASCII without spaces (they travel in JSON and in HTTP headers); STS uses base64.
const SECRET_ACCESS_KEY = /^[\x21-\x7e]{16,256}$/;
const SESSION_TOKEN = /^[\x21-\x7e]{16,}$/;
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z$/;
// Error codes are identifiers (`AccessDenied`, `Throttling`, dotted at most). No `:` or `/`, so no ARN can pass as one.
const ERROR_CODE = /^[A-Za-z][A-Za-z0-9._]{0,127}$/;
const ERROR_TYPE = /^[A-Za-z]{1,32}$/;

/** Why a body was refused: fixed text for the log line, never the body (it may hold credentials). */
function badResponse(why: string): BrokerError {
  return new BrokerError("upstream_unavailable", "sts_bad_response", {
    retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS,
    cause: `sts response: ${why}`,
  });
}

function parseDocument(xml: string): XmlElement {
  if (xml.length > MAX_STS_RESPONSE_BYTES) throw badResponse("too large");
  try {
    return parseXml(xml, MAX_STS_XML_DEPTH);
  } catch (error) {
    throw badResponse(error instanceof Error ? `not XML (${error.message})` : "not XML");
  }
}

/** The one child named `name`; none or several is an error (a second Credentials block must never be picked). */
function onlyChild(parent: XmlElement, name: string): XmlElement {
  const matches = parent.children.filter((child) => child.name === name);
  if (matches.length !== 1) throw badResponse(`${parent.name} must have exactly one ${name}`);
  return matches[0] as XmlElement;
}

function leafText(parent: XmlElement, name: string): string {
  const element = onlyChild(parent, name);
  if (element.children.length > 0) throw badResponse(`${name} must be text`);
  return element.text;
}

/** True for a real calendar instant in ISO 8601 UTC (rejects 2024-02-30, hour 24 and the like). */
function isIsoUtc(text: string): boolean {
  const match = ISO_UTC.exec(text);
  if (match === null) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}

/** The STS actions whose answer carries credentials; each wraps them in `<Action>Response><Action>Result>`. */
export type CredentialsAction = "AssumeRole" | "AssumeRoleWithWebIdentity";

/**
 * Credentials from a success body of `action`. Root `<action>Response` in the STS namespace, exactly one
 * `<action>Result`, exactly one `Credentials` in it, exactly one of each credential element. Unknown sibling
 * elements (AssumedRoleUser, PackedPolicySize, SourceIdentity, Provider, Audience, ...) are ignored: AWS may add
 * fields.
 * AssumeRoleWithWebIdentity: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html#API_AssumeRoleWithWebIdentity_Examples
 */
export function parseCredentialsResponse(xml: string, action: CredentialsAction): StsCredentials {
  const root = parseDocument(xml);
  if (root.name !== `${action}Response`) throw badResponse(`root is not ${action}Response`);
  if (root.attributes.get("xmlns") !== STS_XML_NAMESPACE) throw badResponse("wrong namespace");
  const credentials = onlyChild(onlyChild(root, `${action}Result`), "Credentials");

  const accessKeyId = leafText(credentials, "AccessKeyId");
  const secretAccessKey = leafText(credentials, "SecretAccessKey");
  const sessionToken = leafText(credentials, "SessionToken");
  const expiration = leafText(credentials, "Expiration");
  if (!ACCESS_KEY_ID.test(accessKeyId)) throw badResponse("malformed AccessKeyId");
  if (!SECRET_ACCESS_KEY.test(secretAccessKey)) throw badResponse("malformed SecretAccessKey");
  if (!SESSION_TOKEN.test(sessionToken)) throw badResponse("malformed SessionToken");
  if (!isIsoUtc(expiration)) throw badResponse("malformed Expiration");
  return { accessKeyId, secretAccessKey, sessionToken, expiration };
}

/** Credentials from an AssumeRole success body (see parseCredentialsResponse). */
export function parseAssumeRoleResponse(xml: string): StsCredentials {
  return parseCredentialsResponse(xml, "AssumeRole");
}

function singleChild(parent: XmlElement, name: string): XmlElement | undefined {
  const matches = parent.children.filter((child) => child.name === name);
  return matches.length === 1 ? matches[0] : undefined;
}

/**
 * The type and code of an STS error body (`<ErrorResponse><Error><Type/><Code/><Message/></Error></ErrorResponse>`,
 * also the older `<Response><Errors><Error>` shape), or undefined when the body is not one (HTML from a proxy,
 * empty, truncated). The namespace is not checked: error bodies from AWS's front end may omit it.
 */
export function parseStsError(xml: string): StsErrorInfo | undefined {
  let root: XmlElement;
  try {
    root = parseDocument(xml);
  } catch {
    return undefined;
  }
  let error: XmlElement | undefined;
  if (root.name === "ErrorResponse") error = singleChild(root, "Error");
  else if (root.name === "Response") {
    const errors = singleChild(root, "Errors");
    error = errors === undefined ? undefined : singleChild(errors, "Error");
  }
  if (error === undefined) return undefined;
  const code = singleChild(error, "Code");
  if (code === undefined || code.children.length > 0 || !ERROR_CODE.test(code.text)) return undefined;
  const type = singleChild(error, "Type");
  const typeText =
    type !== undefined && type.children.length === 0 && ERROR_TYPE.test(type.text) ? type.text : undefined;
  return { type: typeText, code: code.text };
}
