// Turns a PolicyDefinition into a CompiledPolicy (rules indexed by issuer and by exact repository/project), or fails
// naming the rule or role at fault. Pure; no I/O. Runs once per isolate (and in `npm test`), never per request.
import type { RoleGrant } from "../aws/session.ts";
import { ISSUER_KINDS, type IssuerKind } from "../oidc/issuers.ts";
import { fail, isPlainObject } from "./compile-error.ts";
import { compileRule } from "./compile-rule.ts";
import { compileGithubToken, type GithubTokenGrant } from "./github-tokens.ts";
import { compileRole } from "./roles.ts";
import { indexRules, type CompiledRule, type RuleSet } from "./rule-index.ts";
import type { PolicyDefinition, PolicyIssuers, RuleDefinition } from "./types.ts";

export { PolicyCompileError, type PolicyErrorCode } from "./compile-error.ts";
export { DEFAULT_ISSUER_ID } from "./compile-rule.ts";

/** Same alphabet as issuer ids in the ISSUERS configuration (src/oidc/issuers.ts). */
const ISSUER_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** The default issuer map of a policy that declares none. */
export const DEFAULT_ISSUERS: PolicyIssuers = { github: "github" };

export interface IssuerPolicy {
  id: string;
  kind: IssuerKind;
  deny: RuleSet;
  allow: RuleSet;
}

export interface CompiledPolicy {
  issuers: ReadonlyMap<string, IssuerPolicy>;
  /** Every rule in declaration order. */
  rules: readonly CompiledRule[];
  /** Deny rules, then allow rules, each in declaration order (all issuers). */
  denyRules: readonly CompiledRule[];
  allowRules: readonly CompiledRule[];
  roles: ReadonlyMap<string, RoleGrant>;
  /** GitHub token grants by name (docs/github-tokens.md). */
  githubTokens: ReadonlyMap<string, GithubTokenGrant>;
}

export interface CompileOptions {
  /**
   * The deployment's issuers (id and kind, from ISSUERS). A policy issuer configured with another kind is an error;
   * one not configured is allowed (its rules can never match). Omit to skip the cross-check (policy:check).
   */
  issuers?: ReadonlyArray<{ id: string; kind: IssuerKind }>;
  /**
   * The deployment's STS_AUTH. With "web-identity" a role with `externalId` is an error: AssumeRoleWithWebIdentity
   * has no ExternalId parameter, so the operator's condition could not be honoured. Omit to skip (sigv4).
   */
  stsAuth?: "sigv4" | "web-identity";
}

function compileIssuers(declared: PolicyIssuers | undefined, options: CompileOptions): Map<string, IssuerKind> {
  const issuers = new Map<string, IssuerKind>();
  const source = declared ?? DEFAULT_ISSUERS;
  if (!isPlainObject(source)) fail("issuers", "must map issuer ids to kinds", "policy_invalid");
  for (const [id, kind] of Object.entries(source)) {
    if (!ISSUER_ID_PATTERN.test(id))
      fail(`issuers.${id}`, "issuer id must match [a-z0-9][a-z0-9_-]{0,31}", "policy_invalid");
    if (!(ISSUER_KINDS as readonly string[]).includes(kind))
      fail(`issuers.${id}`, `kind must be one of ${ISSUER_KINDS.join(", ")}`, "policy_invalid");
    const configured = options.issuers?.find((issuer) => issuer.id === id);
    if (configured !== undefined && configured.kind !== kind) {
      fail(
        `issuers.${id}`,
        `the policy says kind "${kind}", ISSUERS configures "${configured.kind}"`,
        "issuer_kind_mismatch",
      );
    }
    issuers.set(id, kind);
  }
  return issuers;
}

/** Validate and compile. Throws PolicyCompileError on the first mistake. */
export function compilePolicy(def: PolicyDefinition, options: CompileOptions = {}): CompiledPolicy {
  if (!isPlainObject(def)) fail("policy", "must be an object with roles and rules", "policy_invalid");
  const issuers = compileIssuers(def.issuers, options);
  const roles = new Map<string, RoleGrant>();
  if (!isPlainObject(def.roles)) fail("roles", "must map role names to role definitions", "policy_invalid");
  for (const [name, role] of Object.entries(def.roles)) roles.set(name, compileRole(name, role));
  if (options.stsAuth === "web-identity") {
    for (const [name, grant] of roles) {
      if (grant.externalId !== undefined) {
        fail(
          `roles.${name}.externalId`,
          "STS_AUTH = web-identity cannot pass an ExternalId (AssumeRoleWithWebIdentity has no such parameter): drop it from the role and its trust policy, or use sigv4",
          "external_id_unsupported",
        );
      }
    }
  }
  const githubTokens = new Map<string, GithubTokenGrant>();
  if (def.githubTokens !== undefined && !isPlainObject(def.githubTokens))
    fail("githubTokens", "must map grant names to GitHub token grants", "policy_invalid");
  for (const [name, grant] of Object.entries(def.githubTokens ?? {}))
    githubTokens.set(name, compileGithubToken(name, grant));
  if (!Array.isArray(def.rules)) fail("rules", "must be a list", "policy_invalid");

  const seenIds = new Set<string>();
  const rules = def.rules.map((rule, index) =>
    compileRule(index, rule as RuleDefinition, issuers, { roles, githubTokens }, seenIds),
  );
  const perIssuer = new Map<string, IssuerPolicy>();
  for (const [id, kind] of issuers) {
    const mine = rules.filter((rule) => rule.issuer === id);
    perIssuer.set(id, {
      id,
      kind,
      deny: indexRules(
        kind,
        mine.filter((rule) => rule.effect === "deny"),
      ),
      allow: indexRules(
        kind,
        mine.filter((rule) => rule.effect === "allow"),
      ),
    });
  }
  return {
    issuers: perIssuer,
    rules,
    denyRules: rules.filter((rule) => rule.effect === "deny"),
    allowRules: rules.filter((rule) => rule.effect === "allow"),
    roles,
    githubTokens,
  };
}
