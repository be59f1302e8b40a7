// Which roles the compiled policy can grant a repository (or an actor), and through which rules: every allow rule
// whose repository/owner/actor conditions can match the subject, owner-wide and glob rules included, on every issuer
// the deployment configures. Pure; no I/O; no clock. Errs on the side of more roles: a role too many only carries a
// deny no session of it matches; a role too few keeps a compromised session alive.
import type { CompiledPolicy } from "../../policy/compile.ts";
import { compilePattern, isGlob } from "../../policy/glob.ts";
import type { CompiledCondition, CompiledRule } from "../../policy/rule-index.ts";
import type { IssuerKind } from "../../platforms/index.ts";

/** Whose sessions to revoke: a repository (GitHub `owner/name`, GitLab `group/…/project`), an actor, or both. */
export interface RevokeSubject {
  repository?: string;
  actor?: string;
}

/** An issuer of the deployment (its ISSUERS entry): the `Issuer` tag its sessions carry is `url`. */
export interface ConfiguredIssuer {
  id: string;
  kind: IssuerKind;
  url: string;
}

export interface MatchedRule {
  ruleId: string;
  /** Alias -> role name in the policy's `roles`. */
  grants: ReadonlyArray<readonly [alias: string, role: string]>;
  /** How it matches the subject, and what could not be checked offline. */
  notes: string[];
}

export interface IssuerTarget extends ConfiguredIssuer {
  rules: MatchedRule[];
}

/**
 * Rules that match the subject but whose issuer is not targeted: not configured (no session can exist) or not selected.
 */
export interface SkippedIssuer {
  id: string;
  reason: "not_configured" | "not_selected";
  ruleIds: string[];
}

export interface RoleTarget {
  arn: string;
  partition: string;
  account: string;
  /** The role's name without its path: what IAM's RoleName parameter takes. */
  roleName: string;
  /** The policy's longest session for it (`maxDurationSeconds`); undefined for a role added with --role. */
  maxDurationSeconds: number | undefined;
  /** `rule as alias` for each grant, or `--role` for a role named on the command line. */
  grantedBy: string[];
  /** Ids of the targeted issuers whose sessions it can hold: each gets its own deny policy on it. */
  issuerIds: string[];
}

export interface RevokeTargets {
  issuers: IssuerTarget[];
  skipped: SkippedIssuer[];
  roles: RoleTarget[];
}

/** Claims whose value follows from the subject, per kind: claim -> what it is of the subject. */
const SUBJECT_CLAIMS: Readonly<Record<IssuerKind, Readonly<Record<string, "repository" | "owner" | "actor">>>> = {
  github: { repository: "repository", repository_owner: "owner", actor: "actor" },
  gitlab: { project_path: "repository", namespace_path: "owner", user_login: "actor" },
};
/** Id claims of the subject: not known offline, so never a reason to leave a rule out. */
const SUBJECT_ID_CLAIMS: Readonly<Record<IssuerKind, readonly string[]>> = {
  github: ["repository_id", "repository_owner_id", "actor_id"],
  gitlab: ["project_id", "namespace_id", "user_id"],
};

const ROLE_ARN = /^arn:(aws[\w-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

/** The owner of a repository: GitHub's owner, GitLab's namespace (the path without the project). */
function ownerOf(kind: IssuerKind, repository: string): string {
  return kind === "gitlab"
    ? repository.slice(0, repository.lastIndexOf("/"))
    : repository.slice(0, repository.indexOf("/"));
}

/** A condition against a value, case-insensitively (GitHub and GitLab names are): the first pattern that matches. */
function matchingPattern(condition: CompiledCondition, value: string): string | undefined {
  const folded = value.toLowerCase();
  return condition.patterns.find((pattern) => compilePattern(pattern.toLowerCase()).test(folded));
}

/** Whether `rule` can match the subject's tokens, and why (undefined when a subject condition rules it out). */
function matchRule(rule: CompiledRule, subject: RevokeSubject): string[] | undefined {
  const notes: string[] = [];
  const values = {
    repository: subject.repository,
    owner: subject.repository === undefined ? undefined : ownerOf(rule.kind, subject.repository),
    actor: subject.actor,
  };
  for (const condition of rule.conditions) {
    const of = SUBJECT_CLAIMS[rule.kind][condition.claim];
    if (of !== undefined) {
      const value = values[of];
      const written = condition.patterns.join(" | ");
      if (value === undefined) {
        notes.push(`${condition.claim} ${written}`);
        continue;
      }
      const pattern = matchingPattern(condition, value);
      if (pattern === undefined) return undefined;
      const breadth = of === "owner" ? " (owner-wide)" : isGlob(pattern) ? " (glob)" : "";
      notes.push(`${condition.claim} ${pattern}${breadth}`);
    } else if (SUBJECT_ID_CLAIMS[rule.kind].includes(condition.claim)) {
      notes.push(`${condition.claim} ${condition.patterns.join(" | ")} (ids are not checked offline)`);
    }
  }
  if (rule.when !== undefined) notes.push("`when` not evaluated");
  return notes;
}

/**
 * The issuers, rules and roles a revocation of `subject` targets. `issuerIds` narrows to those issuers; `extraRoleArns`
 * (roles sessions may have chained into) receive every targeted issuer's deny. Throws on a malformed extra ARN.
 */
export function findTargets(
  policy: CompiledPolicy,
  subject: RevokeSubject,
  configured: readonly ConfiguredIssuer[],
  options: { issuerIds?: readonly string[]; extraRoleArns?: readonly string[] } = {},
): RevokeTargets {
  const issuers: IssuerTarget[] = [];
  const skipped: SkippedIssuer[] = [];
  for (const [id, issuerPolicy] of policy.issuers) {
    const rules: MatchedRule[] = [];
    for (const rule of policy.allowRules) {
      // A rule that grants only GitHub tokens grants no AWS role: nothing of it to revoke in IAM.
      if (rule.issuer !== id || rule.grants.size === 0) continue;
      const notes = matchRule(rule, subject);
      if (notes !== undefined) rules.push({ ruleId: rule.id, grants: [...rule.grants], notes });
    }
    if (rules.length === 0) continue;
    const deployed = configured.find((issuer) => issuer.id === id && issuer.kind === issuerPolicy.kind);
    const ruleIds = rules.map((rule) => rule.ruleId);
    if (deployed === undefined) skipped.push({ id, reason: "not_configured", ruleIds });
    else if (options.issuerIds !== undefined && !options.issuerIds.includes(id))
      skipped.push({ id, reason: "not_selected", ruleIds });
    else issuers.push({ ...deployed, rules });
  }

  const roles = new Map<string, RoleTarget>();
  const roleFor = (arn: string, maxDurationSeconds: number | undefined): RoleTarget => {
    const existing = roles.get(arn);
    if (existing !== undefined) return existing;
    const match = ROLE_ARN.exec(arn);
    if (match === null)
      throw new Error(`${arn} is not an IAM role ARN (arn:<partition>:iam::<12 digits>:role/<path/name>)`);
    const role: RoleTarget = {
      arn,
      partition: match[1] as string,
      account: match[2] as string,
      roleName: match[3] as string,
      maxDurationSeconds,
      grantedBy: [],
      issuerIds: [],
    };
    roles.set(arn, role);
    return role;
  };
  const addIssuer = (role: RoleTarget, issuerId: string) => {
    if (!role.issuerIds.includes(issuerId)) role.issuerIds.push(issuerId);
  };
  for (const issuer of issuers) {
    for (const rule of issuer.rules) {
      for (const [alias, name] of rule.grants) {
        const grant = policy.roles.get(name);
        if (grant === undefined) continue;
        const role = roleFor(grant.arn, grant.maxDurationSeconds);
        role.maxDurationSeconds = Math.max(role.maxDurationSeconds ?? 0, grant.maxDurationSeconds);
        role.grantedBy.push(`${rule.ruleId} as ${alias}`);
        addIssuer(role, issuer.id);
      }
    }
  }
  for (const arn of options.extraRoleArns ?? []) {
    const role = roleFor(arn, undefined);
    role.grantedBy.push("--role");
    for (const issuer of issuers) addIssuer(role, issuer.id);
  }
  return { issuers, skipped, roles: [...roles.values()] };
}
