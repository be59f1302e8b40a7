// What a CI platform module (github.ts, gitlab.ts) provides: everything the broker knows about one kind of OIDC issuer.
// Pure declarations. Generic stages (verification, guards, kill switch, session naming, web identity) ask the
// platform of a token's issuer kind (index.ts) and never branch on the kind themselves.
import type * as z from "zod/mini";

/** Claims a platform's functions read by name: verified and schema-checked, read as own string properties. */
export type ClaimRecord = Readonly<Record<string, unknown>>;

/**
 * The identity fields every stage after verification needs (audit, kill switch, admission), whatever the platform:
 * GitHub repository/owner/actor, or GitLab project/namespace/user. Names may be renamed or recycled; ids may not.
 */
export interface ClaimSubject {
  /** GitHub `repository`; GitLab `project_path`. */
  repository: string;
  repositoryId: string;
  /** GitHub `repository_owner`; GitLab `namespace_path` (may contain `/` for subgroups). */
  owner: string;
  ownerId: string;
  /** GitHub `actor`; GitLab `user_login`. */
  actor: string;
  actorId: string;
  /** GitHub `ref`; GitLab `ref_path` when sent (`refs/heads/main`), else its bare `ref`. */
  ref: string;
  /** GitHub `event_name`; GitLab `pipeline_source`. */
  event: string;
}

/**
 * A session tag the broker sets from a claim. Keys are stable API: never rename one. Required claims always produce
 * their tag (possibly with an empty value); optional ones only when present and non-empty.
 */
export interface ClaimSessionTag {
  readonly key: string;
  readonly claim: string;
  readonly optional: boolean;
}

/** Which claims a rule may match on, and what each one means to the policy compiler and checker. */
export interface MatchKeys {
  /** Every claim a rule may name. */
  readonly all: readonly string[];
  /** Numeric ids: exact decimal strings only, never globs. */
  readonly ids: readonly string[];
  /**
   * Claims that say whose code runs. An allow rule must name at least one, and the name-shaped ones must fix
   * their first segment (the owner / top-level group) literally: anyone can create an owner a glob would match.
   */
  readonly scope: readonly string[];
  /** Of `scope`, the path-shaped ones whose first segment must be literal. */
  readonly ownerFixed: readonly string[];
  /** Name claim -> the id claim that pins it (`policy:check`: a privileged rule naming one must pin the other). */
  readonly nameIds: ReadonlyArray<readonly [name: string, id: string]>;
  /** Claims the compiler indexes rules by (first one a rule matches exactly wins), most selective first. */
  readonly index: readonly string[];
  /** Names the platform compares without case (repositories, owners, users, environments): deny rules fold case. */
  readonly caseInsensitive: readonly string[];
}

/** The platform facts the built-in guards (src/policy/guards.ts) decide on. Each reads verified claims only. */
export interface GuardFacts {
  /** The claim that names what started the run (GitHub `event_name`, GitLab `pipeline_source`). */
  readonly eventClaim: string;
  /** Events only the repository's writers (or maintainers' schedules) can start: privileged roles need one. */
  readonly trustedEvents: ReadonlySet<string>;
  /** The run holds the base repository's secrets while running code from a fork (GitHub `pull_request_target`). */
  runsForkCodeWithSecrets(claims: ClaimRecord): boolean;
  /** The job ran on the platform's own hosted runners. */
  hostedRunner(claims: ClaimRecord): boolean;
  /** The run is for a pull/merge request's code (its ref or pipeline source says so). */
  pullRequestRun(claims: ClaimRecord): boolean;
  /** The ref is protected, or the deployment environment is (`namesEnvironment`: the rule names it). */
  protectedRef(claims: ClaimRecord, namesEnvironment: boolean): boolean;
}

/** Kill-switch key nouns (`<noun>:<name>`, `<noun>-id:<id>`) and the owners whose denial reaches a token. */
export interface KillSwitchNames {
  readonly repository: string;
  readonly owner: string;
  readonly actor: string;
  /** The owner names to look up for a (lower-cased) owner, most general first. */
  owners(owner: string): string[];
}

/** RoleSessionName / SourceIdentity prefixes and login forms (docs/security.md, "Session identity"). */
export interface SessionIdentity {
  /** The SaaS issuer(s): one account namespace, so they keep the short prefix. */
  isSaasIssuer(issuer: string): boolean;
  /** Prefix for the SaaS issuer (and the loopback sandbox standing in for it), e.g. `gh-`. */
  readonly saasPrefix: string;
  /** Any other issuer of the platform gets `<instancePrefix>.<issuer id>.`; never contains `.` itself. */
  readonly instancePrefix: string;
  /** The login as it stands in a SourceIdentity, or undefined when it must be hashed (outside the login alphabet). */
  plainLogin(login: string): string | undefined;
  /** The two ids of the session name (`<prefix><id>-<id>-...`): run and attempt, pipeline and job. */
  nameIds(claims: ClaimRecord): readonly [unknown, unknown];
  /** The claims naming the repository (the session name's slug) and the actor (the SourceIdentity). */
  readonly repositoryClaim: string;
  readonly actorClaim: string;
}

/**
 * One CI platform. `C` is its verified claims type (what a policy's `when` receives). Adding a platform is one
 * module implementing this, its tests, and one line in index.ts (docs/development.md, "CI platforms").
 */
export interface CiPlatform<C extends object = object> {
  /** The claim schema (zod/mini, hot path): exact types, no coercion, unknown claims dropped. */
  readonly claims: z.ZodMiniType<C>;
  /** Signing algorithms accepted when ISSUERS names none (each must be one of oidc/issuers.ts's supported ones). */
  readonly defaultAlgorithms: readonly string[];
  /**
   * The GitHub REST API the platform's repositories live on, when they live on GitHub: rule requirements (GitHub
   * facts) and `api_url` are for such issuers only. `defaultUrl` derives it from the issuer URL, else undefined.
   */
  readonly githubApi: { defaultUrl(issuer: string): string | undefined } | undefined;
  subject(claims: C): ClaimSubject;
  readonly matchKeys: MatchKeys;
  readonly guards: GuardFacts;
  /**
   * Session tags from claims, in order; all transitive. Identity keys differ per platform (`Repository`, `Project`).
   */
  readonly sessionTags: readonly ClaimSessionTag[];
  readonly identity: SessionIdentity;
  readonly killSwitch: KillSwitchNames;
  /** Web-identity `sub`: `<noun>:<repository>:...`, without `issuer:<id>:` in front only for `unprefixedIssuer`. */
  readonly webIdentity: { readonly noun: string; unprefixedIssuer(issuer: string): boolean };
}
