// Session tags: the broker's (from claims, per the token's platform, plus Issuer) and the operator's (from the grant),
// each value written losslessly in STS's tag alphabet. Pure; no I/O; no clock.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
import { STS_MAX_TAG_KEY_CHARS, STS_MAX_TAG_VALUE_CHARS } from "./constants.ts";
import { BrokerError } from "../errors.ts";
import { ISSUER_KINDS, platformOf } from "../platforms/index.ts";
import type { ClaimSessionTag } from "../platforms/platform.ts";
import { claimText, LONE_SURROGATE } from "./session-names.ts";

export interface SessionTag {
  key: string;
  value: string;
}

/**
 * The tag naming the token's issuer (its exact `iss` URL), on every session of every kind: a trust policy can insist
 * on github.com and refuse a GHES or self-managed GitLab token that carries the same repository or project name.
 */
export const ISSUER_SESSION_TAG_KEY = "Issuer";

/** Every key the broker may set, whatever the issuer: the policy compiler refuses operator tags among them. */
export const ALL_BROKER_SESSION_TAG_KEYS: readonly string[] = [
  ...new Set([
    ...ISSUER_KINDS.flatMap((kind) => platformOf(kind).sessionTags.map((tag) => tag.key)),
    ISSUER_SESSION_TAG_KEY,
  ]),
];

/** The most tags the broker itself sets for one session, whatever the kind: operator tags must fit beside them. */
export const MAX_BROKER_SESSION_TAGS = Math.max(...ISSUER_KINDS.map((kind) => platformOf(kind).sessionTags.length)) + 1;

// Tag key/value alphabet per STS: `[\p{L}\p{Z}\p{N}_.:/=+\-@]`. Claim values are written losslessly: a code point of
// that alphabet stands for itself, except `=`, the escape character; every other code point (and `=`) becomes `=XX`
// per UTF-8 byte, upper-case hex. Zl and Zp (legal for STS, but they break log lines) are escaped too. The mapping is
// injective, so two different claim values never yield one tag value (docs/security.md, "Session tags").
const TAG_LITERAL_CLASS = String.raw`[\p{L}\p{Zs}\p{N}_.:/+\-@]`;
const TAG_LITERAL_CHAR = new RegExp(`^${TAG_LITERAL_CLASS}$`, "u");
/**
 * A whole value of TAG_LITERAL_CHAR characters (no `=`, no lone surrogate): written as it is. One class for both, so
 * they cannot drift.
 */
const TAG_LITERAL_TEXT = new RegExp(`^${TAG_LITERAL_CLASS}*$`, "u");
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const utf8 = new TextEncoder();

/** An operator tag key STS accepts: its alphabet, 1..128 characters, not the reserved `aws:` prefix (any case). */
export function isValidTagKey(key: string): boolean {
  return key.length <= STS_MAX_TAG_KEY_CHARS && TAG_KEY.test(key) && !/^aws:/i.test(key);
}

/** An operator tag value STS accepts: its alphabet, at most 256 characters. */
export function isValidTagValue(value: string): boolean {
  return value.length <= STS_MAX_TAG_VALUE_CHARS && TAG_VALUE.test(value);
}

/** STS counts characters: hold to both UTF-16 units and code points, the stricter reading. */
function fitsTagValue(text: string): boolean {
  return text.length <= STS_MAX_TAG_VALUE_CHARS && [...text].length <= STS_MAX_TAG_VALUE_CHARS;
}

/**
 * A claim value as a session tag value, losslessly (see TAG_LITERAL_CHAR), or undefined when it cannot be: its escaped
 * form is longer than STS allows, or it holds a lone surrogate (UTF-8 cannot carry one, so two would collide).
 */
export function tagValue(text: string): string | undefined {
  // Common case first: nothing to escape, so the value stands for itself (one test instead of one per character).
  if (TAG_LITERAL_TEXT.test(text)) return fitsTagValue(text) ? text : undefined;
  if (LONE_SURROGATE.test(text)) return undefined;
  let out = "";
  for (const char of text) {
    if (char !== "=" && TAG_LITERAL_CHAR.test(char)) out += char;
    else for (const byte of utf8.encode(char)) out += `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    if (out.length > STS_MAX_TAG_VALUE_CHARS) return undefined;
  }
  return fitsTagValue(out) ? out : undefined;
}

/**
 * Refused, not rewritten: a trust policy conditioning on the tag must never be satisfied by another value. 403: the
 * token's claims, not the request or the broker, are at fault, and retrying cannot help.
 */
function requireTagValue(value: string): string {
  const tag = tagValue(value);
  if (tag === undefined) throw new BrokerError("forbidden", "session_tag_unrepresentable");
  return tag;
}

/** The broker's tags of one session: the platform's claim tags, then Issuer. All of them are transitive. */
export function brokerTags(
  table: readonly ClaimSessionTag[],
  claims: Readonly<Record<string, unknown>>,
  issuer: string,
): SessionTag[] {
  const tags: SessionTag[] = [];
  for (const { key, claim, optional } of table) {
    const value = claimText(claims[claim]);
    if (optional && value === "") continue;
    tags.push({ key, value: requireTagValue(value) });
  }
  tags.push({ key: ISSUER_SESSION_TAG_KEY, value: requireTagValue(issuer) });
  return tags;
}

/**
 * Operator tags come from the compiled policy, so a bad one is a configuration error, not something to repair:
 * we refuse it rather than silently rewrite what the operator's trust policies may condition on. `taken` holds the
 * broker's keys, lower-cased (STS tag keys are case-insensitive); `aws:` is reserved for AWS.
 */
export function operatorTags(
  sessionTags: ReadonlyArray<readonly [key: string, value: string]>,
  taken: Set<string>,
): SessionTag[] {
  const tags: SessionTag[] = [];
  for (const [key, value] of sessionTags) {
    const folded = key.toLowerCase();
    if (taken.has(folded) || folded.startsWith("aws:")) throw new BrokerError("config_invalid", "session_tag_conflict");
    if (!isValidTagKey(key) || !isValidTagValue(value)) {
      throw new BrokerError("config_invalid", "session_tag_invalid");
    }
    taken.add(folded);
    tags.push({ key, value });
  }
  return tags;
}
