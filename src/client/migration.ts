// What a step migrated from aws-actions/configure-aws-credentials still carries: inputs this Action does not use, and a
// lifetime that silently shrinks. Pure; no I/O: reads the step's environment through `getEnv`, returns the lines to
// print.
import { BROKER_DEFAULT_DURATION_SECONDS, CONFIGURE_AWS_CREDENTIALS_DEFAULT_DURATION_SECONDS } from "./constants.ts";

/**
 * Where each configure-aws-credentials input goes, for every input of its action.yml that this Action does not declare.
 */
const REPLACEMENTS = {
  "role-to-assume": "use `role` with a role alias from the broker's policy; the ARN stays in the policy",
  "role-session-name": "none: the broker names the session after the run and the token (docs/aws.md)",
  "role-external-id": "none here: the broker's policy sets the role's `externalId`",
  "role-skip-session-tagging": "none: the broker always sets its session tags",
  "role-chaining": "none: the broker assumes the role; the job holds no AWS keys",
  "aws-access-key-id": "none: the broker assumes the role; the job holds no AWS keys",
  "aws-secret-access-key": "none: the broker assumes the role; the job holds no AWS keys",
  "aws-session-token": "none: the broker assumes the role; the job holds no AWS keys",
  "web-identity-token-file": "none: the Action asks the runner for the job's OIDC token itself",
  "use-existing-credentials": "none: every run asks the broker for new credentials",
  "force-skip-oidc": "none: the job's OIDC token is the only way in",
  "unset-current-credentials":
    "not needed: the Action never reads AWS credentials from the environment, and `output-mode: env` overwrites them",
  "inline-session-policy": "none here: the broker's policy sets the role's `sessionPolicy`",
  "managed-session-policies": "none here: the broker's policy sets the role's `managedPolicyArns`",
  "custom-tags": "none here: the broker's policy sets the role's `sessionTags`",
  "transitive-tag-keys": "none here: the broker's policy sets the role's `transitiveTagKeys`",
  "output-credentials": "use `output-mode: outputs`",
  "output-env-credentials": "use `output-mode: outputs` for outputs only; `env` (the default) exports the variables",
  "aws-profile": "put the `credential-process` output in a profile (docs/clients.md, Long jobs)",
  "overwrite-aws-profile": "put the `credential-process` output in a profile (docs/clients.md, Long jobs)",
  "mask-aws-account-id": "none: no account id is output, and the access key id is masked",
  "allowed-account-ids": "none: the broker's policy fixes the role ARNs",
  "sts-endpoint": "none here: the broker's `STS_ENDPOINT` setting",
  "http-proxy": "none: no proxy input",
  "no-proxy": "none: no proxy input",
  "disable-retry": "none: retries on 429, 503 and network errors are built in",
  "retry-max-attempts": "none: retries on 429, 503 and network errors are built in, within a 60 s deadline",
  "special-characters-workaround": "not needed: the keys are exported as they are, multi-line safe",
  "action-timeout-s": "none: the exchange gives up after 60 s",
} as const satisfies Record<string, string>;

/** configure-aws-credentials inputs this Action does not use: the runner still hands them over as INPUT_* variables. */
export const UNUSED_CONFIGURE_AWS_CREDENTIALS_INPUTS: readonly string[] = Object.keys(REPLACEMENTS);

/**
 * configure-aws-credentials names this Action accepts as aliases of its own; using one marks the step as migrated too.
 */
const ALIASES = ["aws-region", "role-duration-seconds"] as const;

export interface MigrationAdvice {
  /** One per unused input the step sets: its name and what replaces it. Never its value (it may be a secret). */
  warnings: string[];
  /**
   * Set when the step looks migrated and asks for no duration: it gets the broker's 900 s, not
   * configure-aws-credentials' 3600 s.
   */
  notice: string | undefined;
}

/**
 * Advice for one step. `input(name)` is the INPUT_* variable for `name`: undefined when the step does not set an
 * undeclared
 * input (the runner passes only what `with:` names), "" for a declared input left at its empty default.
 */
export function migrationAdvice(input: (name: string) => string | undefined): MigrationAdvice {
  const given = (name: string) => (input(name)?.trim() ?? "") !== "";
  const unused = UNUSED_CONFIGURE_AWS_CREDENTIALS_INPUTS.filter((name) => input(name) !== undefined);
  const warnings = unused.map(
    (name) =>
      `The input ${name} (of aws-actions/configure-aws-credentials) is not used by this Action and has no effect. Instead: ${REPLACEMENTS[name as keyof typeof REPLACEMENTS]}.`,
  );
  const migrated = unused.length > 0 || ALIASES.some(given);
  const notice =
    migrated && !given("duration") && !given("role-duration-seconds")
      ? `No duration set: these credentials last ${BROKER_DEFAULT_DURATION_SECONDS} s, the broker's default, where aws-actions/configure-aws-credentials ` +
        `gave ${CONFIGURE_AWS_CREDENTIALS_DEFAULT_DURATION_SECONDS} s. If the job needs longer, set role-duration-seconds (or duration), up to the role's maxDurationSeconds in the broker's policy.`
      : undefined;
  return { warnings, notice };
}
