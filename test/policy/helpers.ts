// Shared set-up for the policy decision tests: three roles, a GitHub push input, a policy over them, and whether a
// decision allowed.
import { compilePolicy, type CompiledPolicy } from "../../src/policy/compile.ts";
import type { Decision, DecisionInput } from "../../src/policy/decide.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";
import { githubClaims } from "../support/fake-issuer.ts";

const ARN = "arn:aws:iam::111122223333:role/";
export const roles = {
  a: { arn: `${ARN}a` },
  b: { arn: `${ARN}b` },
  prod: { arn: `${ARN}prod`, privileged: true },
};

/** GitHub-hosted push to acme/app main, protected: passes every guard unless a case changes that. */
export function input(claims: Record<string, unknown> = {}, extra: Partial<DecisionInput> = {}): DecisionInput {
  const merged: Record<string, unknown> = { ...githubClaims(), ...claims };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return { issuerId: "github", claims: merged, role: undefined, durationSeconds: undefined, ...extra };
}

export function policyOf(rules: PolicyDefinition["rules"], issuers?: PolicyDefinition["issuers"]): CompiledPolicy {
  return compilePolicy({ ...(issuers === undefined ? {} : { issuers }), roles, rules });
}

export const allowed = (decision: Decision) => decision.allowed;
