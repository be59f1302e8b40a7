import { describe, expect, it } from "vitest";
import { inputVariable } from "../../src/client/action.ts";
import { migrationAdvice, UNUSED_CONFIGURE_AWS_CREDENTIALS_INPUTS } from "../../src/client/migration.ts";

/** The inputs of aws-actions/configure-aws-credentials' action.yml (v5, node24), as the upstream file declares them. */
const CONFIGURE_AWS_CREDENTIALS_INPUTS = [
  "aws-region",
  "aws-profile",
  "overwrite-aws-profile",
  "role-to-assume",
  "aws-access-key-id",
  "aws-secret-access-key",
  "aws-session-token",
  "web-identity-token-file",
  "role-chaining",
  "audience",
  "http-proxy",
  "no-proxy",
  "mask-aws-account-id",
  "role-duration-seconds",
  "role-external-id",
  "role-session-name",
  "role-skip-session-tagging",
  "transitive-tag-keys",
  "inline-session-policy",
  "managed-session-policies",
  "output-credentials",
  "output-env-credentials",
  "unset-current-credentials",
  "disable-retry",
  "retry-max-attempts",
  "special-characters-workaround",
  "use-existing-credentials",
  "allowed-account-ids",
  "force-skip-oidc",
  "action-timeout-s",
  "custom-tags",
  "sts-endpoint",
];
/** Ours (action.yml): every configure-aws-credentials input is either one of these or warned about. */
const OUR_INPUTS = [
  "broker-url",
  "audience",
  "role",
  "duration",
  "region",
  "aws-region",
  "role-duration-seconds",
  "output-mode",
];

/**
 * A step's environment as the runner builds it: declared inputs at their defaults, then what `with:` sets (declared or
 * not).
 */
function step(withInputs: Record<string, string>): (name: string) => string | undefined {
  const env: Record<string, string> = {};
  for (const name of OUR_INPUTS)
    env[inputVariable(name)] = name === "audience" ? "ci-credential-broker" : name === "output-mode" ? "env" : "";
  for (const [name, value] of Object.entries(withInputs)) env[inputVariable(name)] = value;
  return (name) => env[inputVariable(name)];
}

describe("migrationAdvice", () => {
  it("covers every configure-aws-credentials input this Action does not declare, and no other", () => {
    const expected = CONFIGURE_AWS_CREDENTIALS_INPUTS.filter((name) => !OUR_INPUTS.includes(name)).sort();
    expect([...UNUSED_CONFIGURE_AWS_CREDENTIALS_INPUTS].sort()).toEqual(expected);
  });

  it("a step of our own inputs only: no warning, no notice", () => {
    expect(migrationAdvice(step({ "broker-url": "https://b.example", role: "deploy" }))).toEqual({
      warnings: [],
      notice: undefined,
    });
    expect(migrationAdvice(step({ role: "deploy", region: "eu-west-1" })).notice).toBeUndefined();
  });

  it("warns once per unused input, naming what replaces it and never its value", () => {
    const secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY";
    const arn = "arn:aws:iam::111122223333:role/acme-app-deploy";
    const advice = migrationAdvice(
      step({
        "role-to-assume": arn,
        "aws-secret-access-key": secret,
        "role-session-name": "x",
        "role-duration-seconds": "3600",
      }),
    );
    expect(advice.warnings).toHaveLength(3);
    expect(advice.warnings.find((line) => line.includes("role-to-assume"))).toContain("use `role`");
    expect(advice.warnings.find((line) => line.includes("aws-secret-access-key"))).toContain("no AWS keys");
    for (const line of advice.warnings) {
      expect(line).not.toContain(secret);
      expect(line).not.toContain(arn);
    }
  });

  it("an input the step names with an empty value is still reported (the runner only passes what `with:` names)", () => {
    expect(migrationAdvice(step({ "role-to-assume": "" })).warnings).toHaveLength(1);
  });

  it("every unused input has its replacement", () => {
    for (const name of UNUSED_CONFIGURE_AWS_CREDENTIALS_INPUTS) {
      const [warning] = migrationAdvice(step({ [name]: "x" })).warnings;
      expect(warning).toMatch(new RegExp(`^The input ${name} .* Instead: \\S.+\\.$`));
    }
  });

  it("a migrated step with no duration gets a notice that it now lasts 900 s, not 3600 s", () => {
    const steps: Array<Record<string, string>> = [
      { "role-to-assume": "arn:aws:iam::111122223333:role/x" },
      { "aws-region": "eu-west-1" },
      { "output-credentials": "true" },
    ];
    for (const migrated of steps) {
      const { notice } = migrationAdvice(step(migrated));
      expect(notice).toContain("900 s");
      expect(notice).toContain("3600 s");
      expect(notice).toContain("role-duration-seconds");
    }
  });

  it("no notice once the step sets a duration under either name", () => {
    expect(
      migrationAdvice(step({ "aws-region": "eu-west-1", "role-duration-seconds": "3600" })).notice,
    ).toBeUndefined();
    expect(migrationAdvice(step({ "role-to-assume": "arn:x", duration: "900" })).notice).toBeUndefined();
    expect(migrationAdvice(step({ "aws-region": "eu-west-1", duration: " " })).notice).toBeDefined();
  });
});
