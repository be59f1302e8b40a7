// Which claims a rule may match on, per issuer kind: each platform's `matchKeys` (src/platforms/), keyed for the
// compiler and the checker. Pure data; no I/O. The lists mirror GitHubMatch / GitLabMatch in types.ts (checked below).
import type { GITHUB_MATCH_KEYS } from "../platforms/github.ts";
import type { GITLAB_MATCH_KEYS } from "../platforms/gitlab.ts";
import { byKind, type IssuerKind } from "../platforms/index.ts";
import type { MatchKeys } from "../platforms/platform.ts";
import type { GitHubMatch, GitLabMatch } from "./types.ts";

export const MATCH_KEYS: Readonly<Record<IssuerKind, MatchKeys>> = byKind((platform) => platform.matchKeys);

/** Fails to compile when a platform's match keys name a claim its authored matcher type lacks. */
type KeysOf<Keys extends ReadonlyArray<keyof Match>, Match> = Keys;
export type MatchKeysInStep = [
  KeysOf<typeof GITHUB_MATCH_KEYS, GitHubMatch>,
  KeysOf<typeof GITLAB_MATCH_KEYS, GitLabMatch>,
];

/** GitHub's exact id format, as claims.ts checks it: 1..20 decimal digits. */
export const ID_PATTERN = /^[0-9]{1,20}$/;
