// The git credential helper protocol (git-credential(1), gitcredentials(7)) as values: the description git writes on
// stdin, whether it asks for the grant's host, and the answer. Pure; no I/O; the clock arrives as a number.
//
// git runs `<helper> get|store|erase` and writes `key=value` lines, ended by a blank line or EOF: protocol, host (with
// its port when one was given), path (only with credential.useHttpPath), username, and more it may add (wwwauth[],
// capability[]...). For `get` the helper prints attributes that git takes over; nothing means "not mine". For `store`
// and `erase` the output is ignored. An unknown operation is ignored too, as the protocol asks.
import { ClientError } from "./errors.ts";
import type { GithubToken } from "./github-token.ts";

export type GitOperation = "get" | "store" | "erase";

/** The user name git sends with an installation token over HTTPS (GitHub: any name works; this one is documented). */
export const GIT_TOKEN_USERNAME = "x-access-token";

/** What git asks: its scalar attributes (the last of each wins, as in git); `name[]` arrays are not needed here. */
export type CredentialDescription = ReadonlyMap<string, string>;

/** Parses the description git wrote. Lines without `=`, and array attributes, are skipped; NUL is refused. */
export function parseCredentialDescription(text: string): CredentialDescription {
  if (text.includes("\0")) throw new ClientError("usage", "The credential description from git contains a NUL byte.");
  const attributes = new Map<string, string>();
  for (const line of text.split("\n")) {
    const clean = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (clean === "") break;
    const eq = clean.indexOf("=");
    if (eq <= 0) continue;
    const key = clean.slice(0, eq);
    if (key.endsWith("[]")) continue;
    attributes.set(key, clean.slice(eq + 1));
  }
  return attributes;
}

/** A remote as git names it: protocol (`https`) and host (`github.com`, `ghes.example:8443`). */
export interface GitRemote {
  protocol: string;
  host: string;
}

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?$/;

/**
 * Whether git asks for `remote`: same host (git hosts compare without case), and https (plain http only for a loopback
 * host: the local sandbox). A description without protocol or host is never ours.
 */
export function asksFor(description: CredentialDescription, remote: GitRemote): boolean {
  const protocol = description.get("protocol");
  const host = description.get("host");
  if (protocol === undefined || host === undefined) return false;
  if (host.toLowerCase() !== remote.host.toLowerCase() || protocol !== remote.protocol) return false;
  return protocol === "https" || (protocol === "http" && LOOPBACK_HOST.test(host));
}

/** Before a token exists: the host the helper was configured for, https (http too for a loopback host). */
export function asksForHost(description: CredentialDescription, host: string): boolean {
  return asksFor(description, { protocol: "https", host }) || asksFor(description, { protocol: "http", host });
}

/**
 * With `credential.useHttpPath`, git names the repository (`acme/homebrew-tap.git`): answer only for one the token
 * reaches, so the token is never sent where it cannot work. Without a path, every repository of the host is asked for.
 */
export function pathAllowed(description: CredentialDescription, repositories: readonly string[]): boolean {
  const path = description.get("path");
  if (path === undefined || path === "") return true;
  const name = path
    .replace(/^\/+/, "")
    .replace(/\/+$/, "")
    .replace(/\.git$/, "")
    .toLowerCase();
  return repositories.some((repository) => repository.toLowerCase() === name);
}

/** The `get` answer: user name, the token as password, and its expiry (git >= 2.41 skips an expired password). */
export function credentialAnswer(token: Pick<GithubToken, "token" | "expiresAtMs">): string {
  return `username=${GIT_TOKEN_USERNAME}\npassword=${token.token}\npassword_expiry_utc=${Math.floor(token.expiresAtMs / 1000)}\n`;
}

/** Tells git to stop: no other helper, no prompt (a CI job has nobody to type a password). */
export const QUIT_ANSWER = "quit=1\n";

/** `get`, `store`, `erase`, or undefined for an operation this helper ignores. */
export function gitOperation(value: string | undefined): GitOperation | undefined {
  return value === "get" || value === "store" || value === "erase" ? value : undefined;
}
