// What the compilePolicy tests share: a role, a rule granting it, the PolicyCompileError a mistake throws, and the
// shape of a mistake in the tables.
import {
  compilePolicy,
  PolicyCompileError,
  type CompileOptions,
  type PolicyErrorCode,
} from "../../src/policy/compile.ts";
import type { PolicyDefinition } from "../../src/policy/types.ts";

export const role = { arn: "arn:aws:iam::111122223333:role/app" };

export const rule = { id: "r1", match: { repository: "acme/app" }, roles: ["app"] };

export function compileError(policy: PolicyDefinition, options: CompileOptions = {}): PolicyCompileError {
  try {
    compilePolicy(policy, options);
  } catch (error) {
    if (error instanceof PolicyCompileError) return error;
    throw error;
  }
  throw new Error("policy compiled, but a PolicyCompileError was expected");
}

/** A policy with one mistake: its name, the policy, where the error points and its stable code. */
export type Mistake = [string, PolicyDefinition, string, PolicyErrorCode];
