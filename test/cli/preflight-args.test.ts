// `npm run preflight`'s inputs: its flags (a usage error is a string, exit 2) and the secret sources it reads names
// from
// (src/cli/deployment-env.ts secretNamesFrom): never a value.
import { describe, expect, it } from "vitest";
import { secretNamesFrom } from "../../src/cli/deployment-env.ts";
import { parsePreflightArgs } from "../../src/cli/preflight-run.ts";

describe("parsePreflightArgs", () => {
  it("defaults to the top level of ./wrangler.toml, ./policies and no secret source", () => {
    expect(parsePreflightArgs([])).toEqual({
      alerts: false,
      env: undefined,
      config: "wrangler.toml",
      policies: "policies",
      secrets: undefined,
      secretsFile: undefined,
    });
  });

  it("reads every flag, spaced or with =, and joins repeated --secrets", () => {
    expect(
      parsePreflightArgs([
        "--env",
        "sandbox",
        "--secrets",
        "A,B",
        "--secrets=C",
        "--secrets-file=s.json",
        "-c",
        "other.toml",
        "--policies",
        "test/fixtures/policies",
      ]),
    ).toEqual({
      alerts: false,
      env: "sandbox",
      config: "other.toml",
      policies: "test/fixtures/policies",
      secrets: ["A", "B", "C"],
      secretsFile: "s.json",
    });
    expect(parsePreflightArgs(["-e", "staging"])).toMatchObject({ env: "staging" });
    // --alerts selects the cron Worker, whose config is wrangler.alerts.toml unless --config says otherwise.
    expect(parsePreflightArgs(["--alerts"])).toMatchObject({ alerts: true, config: "wrangler.alerts.toml" });
    expect(parsePreflightArgs(["-c", "a.toml", "--alerts"])).toMatchObject({ alerts: true, config: "a.toml" });
  });

  it("answers --help with the usage line", () => {
    expect(parsePreflightArgs(["--help"])).toEqual({ help: expect.stringMatching(/^usage: npm run preflight -- /) });
  });

  it.each([
    [["--env"], /^--env needs a value/],
    [["--env="], /^--env needs a value/],
    [["--secrets", "AWS_SECRET_ACCESS_KEY=abc"], /^--secrets takes names only/],
    [["--verbose"], /^unknown option --verbose/],
    [["sandbox"], /^unexpected argument sandbox/],
  ])("refuses %j with a usage line", (argv, message) => {
    const result = parsePreflightArgs(argv);
    expect(result).toMatch(message);
    expect(result).toMatch(/\nusage: npm run preflight -- /);
  });
});

describe("secretNamesFrom", () => {
  it("reads `wrangler secret list --format json` output", () => {
    const listed = JSON.stringify(
      [
        { name: "AWS_ACCESS_KEY_ID", type: "secret_text" },
        { name: "AWS_SECRET_ACCESS_KEY", type: "secret_text" },
      ],
      null,
      "  ",
    );
    expect(secretNamesFrom(listed)).toEqual(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
  });

  it("reads the keys of a JSON secrets file (wrangler deploy --secrets-file), never returning a value", () => {
    expect(
      secretNamesFrom('{"BROKER_SIGNING_KEY": "-----BEGIN PRIVATE KEY-----\\nMIGH\\n-----END PRIVATE KEY-----\\n"}'),
    ).toEqual(["BROKER_SIGNING_KEY"]);
  });

  it("reads the names of a dotenv file (.dev.vars), across quoted values that span lines", () => {
    const devVars = [
      "# the sandbox's secrets",
      "AWS_ACCESS_KEY_ID=AKIAEXAMPLEEXAMPLE00",
      "export AWS_SECRET_ACCESS_KEY = abc",
      'BROKER_SIGNING_KEY=\'{"kty":"EC","d":"x"}\'',
      'GITHUB_APP_PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----',
      "NOT_A_NAME=inside the key",
      '-----END RSA PRIVATE KEY-----"',
      "",
      "STS_AUTH=web-identity",
    ].join("\n");
    expect(secretNamesFrom(devVars)).toEqual([
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "BROKER_SIGNING_KEY",
      "GITHUB_APP_PRIVATE_KEY",
      "STS_AUTH",
    ]);
  });

  it("says what is wrong with a file it cannot read names from", () => {
    expect(secretNamesFrom("[{broken")).toBe("not valid JSON");
    expect(secretNamesFrom("[1, 2]")).toMatch(/^a JSON list must hold names/);
  });
});
