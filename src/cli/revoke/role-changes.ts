// Attaching and removing the revocation policies on one role through IAM: check the role is the one the policy names
// (IAM takes a role name and acts in the caller's account), keep the role's inline policies within IAM's aggregate
// cap, never move a cutoff earlier, then PutRolePolicy / DeleteRolePolicy. I/O only through the injected IamClient.
import { IAM_ROLE_INLINE_POLICIES_MAX_CHARS } from "./constants.ts";
import { countedPolicyChars, cutoffOf, formatCutoff, type DenyPolicy } from "./deny-policy.ts";
import { IamError, type IamClient } from "./iam-client.ts";
import type { RoleTarget } from "./targets.ts";

export type PolicyChange =
  | { name: string; change: "created" }
  | { name: string; change: "replaced"; previousCutoff: string | undefined }
  | { name: string; change: "kept"; laterCutoff: string }
  | { name: string; change: "removed"; cutoff: string | undefined }
  | { name: string; change: "absent" };

export type RoleOutcome =
  | { role: RoleTarget; ok: true; changes: PolicyChange[]; inlineChars?: number }
  | { role: RoleTarget; ok: false; code: string; message: string; changes: PolicyChange[] };

const failed = (role: RoleTarget, code: string, message: string, changes: PolicyChange[] = []): RoleOutcome => ({
  role,
  ok: false,
  code,
  message,
  changes,
});

/**
 * IAM's answer to GetRole must be this very role: same account and name (role names are unique per account, any case).
 */
async function checkRole(iam: IamClient, role: RoleTarget): Promise<RoleOutcome | undefined> {
  try {
    const found = await iam.getRole(role.roleName);
    const account = found.arn.split(":")[4] ?? "";
    if (account !== role.account || found.roleName.toLowerCase() !== role.roleName.toLowerCase()) {
      return failed(
        role,
        "wrong_account",
        `these credentials reach ${found.arn}, not this role: run with credentials for account ${role.account}`,
      );
    }
    return undefined;
  } catch (error) {
    if (!(error instanceof IamError)) throw error;
    if (error.code === "NoSuchEntity")
      return failed(
        role,
        error.code,
        `no role ${role.roleName} in the account of these credentials: use credentials for account ${role.account}`,
      );
    return failed(role, error.code, error.message);
  }
}

/**
 * Attaches `policies` to the role. A policy of the same name is replaced, unless its cutoff is later (replacing it
 * would
 * give back access to sessions it denies): that one is kept. Refuses, changing nothing, when the role's inline
 * policies would exceed IAM's 10,240 counted characters.
 */
export async function attachToRole(
  iam: IamClient,
  role: RoleTarget,
  policies: readonly DenyPolicy[],
  cutoffMs: number,
): Promise<RoleOutcome> {
  const wrong = await checkRole(iam, role);
  if (wrong !== undefined) return wrong;
  const planned: PolicyChange[] = [];
  /** What is true on the role so far: kept policies, then each write IAM accepted. */
  const done: PolicyChange[] = [];
  try {
    const ours = new Set(policies.map((policy) => policy.name));
    let otherChars = 0;
    const attached = new Map<string, string>();
    for (const name of await iam.listRolePolicies(role.roleName)) {
      const document = await iam.getRolePolicy(role.roleName, name);
      if (ours.has(name)) attached.set(name, document);
      else otherChars += countedPolicyChars(document);
    }
    const writes: Array<{ policy: DenyPolicy; change: PolicyChange }> = [];
    let ourChars = 0;
    for (const policy of policies) {
      const existing = attached.get(policy.name);
      const existingCutoff = existing === undefined ? undefined : cutoffOf(existing);
      if (existing !== undefined && existingCutoff !== undefined && existingCutoff > cutoffMs) {
        const change: PolicyChange = { name: policy.name, change: "kept", laterCutoff: formatCutoff(existingCutoff) };
        planned.push(change);
        done.push(change);
        ourChars += countedPolicyChars(existing);
        continue;
      }
      const change: PolicyChange =
        existing === undefined
          ? { name: policy.name, change: "created" }
          : {
              name: policy.name,
              change: "replaced",
              previousCutoff: existingCutoff === undefined ? undefined : formatCutoff(existingCutoff),
            };
      planned.push(change);
      writes.push({ policy, change });
      ourChars += countedPolicyChars(policy.document);
    }
    const total = otherChars + ourChars;
    if (total > IAM_ROLE_INLINE_POLICIES_MAX_CHARS) {
      return failed(
        role,
        "inline_policy_limit",
        `the role's other inline policies count ${otherChars} characters; with the revocation (${ourChars}) that is ${total}, over IAM's ${IAM_ROLE_INLINE_POLICIES_MAX_CHARS}: nothing changed. Attach the printed document as a managed policy (aws iam create-policy, then attach-role-policy), or make room`,
        done,
      );
    }
    for (const { policy, change } of writes) {
      await iam.putRolePolicy(role.roleName, policy.name, policy.document);
      done.push(change);
    }
    return { role, ok: true, changes: planned, inlineChars: total };
  } catch (error) {
    if (!(error instanceof IamError)) throw error;
    return failed(role, error.code, error.message, done);
  }
}

/** Deletes the policies named `names` from the role; one that is not there is fine (`absent`). */
export async function removeFromRole(iam: IamClient, role: RoleTarget, names: readonly string[]): Promise<RoleOutcome> {
  const wrong = await checkRole(iam, role);
  if (wrong !== undefined) return wrong;
  const changes: PolicyChange[] = [];
  for (const name of names) {
    try {
      // Its cutoff, read first, says how long the sessions it denied may still live once it is gone.
      const cutoff = cutoffOf(await iam.getRolePolicy(role.roleName, name));
      await iam.deleteRolePolicy(role.roleName, name);
      changes.push({ name, change: "removed", cutoff: cutoff === undefined ? undefined : formatCutoff(cutoff) });
    } catch (error) {
      if (!(error instanceof IamError)) throw error;
      if (error.code === "NoSuchEntity") changes.push({ name, change: "absent" });
      else return failed(role, error.code, error.message, changes);
    }
  }
  return { role, ok: true, changes };
}
