import { describe, expect, it } from "vitest";
import { parseCliArgs } from "../../src/client/cli-args.ts";
import { ClientError } from "../../src/client/errors.ts";

const URL_FLAG = ["--broker-url", "https://broker.example"];

function parse(argv: string[], env: Record<string, string> = {}) {
  return parseCliArgs(argv, (name) => env[name]);
}

describe("parseCliArgs", () => {
  it("credential-process with a GitLab token variable", () => {
    expect(
      parse([
        "credential-process",
        ...URL_FLAG,
        "--token-env",
        "BROKER_ID_TOKEN",
        "--role=deploy",
        "--duration",
        "3600",
      ]),
    ).toEqual({
      command: "credential-process",
      endpoint: new URL("https://broker.example/v1/credentials"),
      role: "deploy",
      durationSeconds: 3600,
      region: undefined,
      deadlineMs: undefined,
      debug: false,
      tokenSource: { kind: "env", name: "BROKER_ID_TOKEN" },
    });
  });

  it("env with a token file, region, deadline and debug", () => {
    expect(
      parse(["env", ...URL_FLAG, "--token-file", "/run/token", "--region", "eu-west-1", "--deadline", "10", "--debug"]),
    ).toMatchObject({
      command: "env",
      region: "eu-west-1",
      deadlineMs: 10_000,
      debug: true,
      tokenSource: { kind: "file", path: "/run/token" },
    });
  });

  it("defaults to the GitHub Actions endpoint inside GitHub Actions, with the default audience", () => {
    expect(parse(["credential-process", ...URL_FLAG], { GITHUB_ACTIONS: "true" })).toMatchObject({
      tokenSource: { kind: "github-actions", audience: "ci-credential-broker" },
    });
    expect(parse(["credential-process", ...URL_FLAG, "--github-actions", "--audience", "sts.example"])).toMatchObject({
      tokenSource: { kind: "github-actions", audience: "sts.example" },
    });
  });

  it("turns debug on from CI_CREDENTIALS_DEBUG=1 or RUNNER_DEBUG=1", () => {
    const args = ["credential-process", ...URL_FLAG, "--token-env", "T"];
    expect(parse(args, { CI_CREDENTIALS_DEBUG: "1" })).toMatchObject({ debug: true });
    expect(parse(args, { RUNNER_DEBUG: "1" })).toMatchObject({ debug: true });
  });

  it("--help", () => expect(parse(["--help"])).toBe("help"));

  const bad: Array<[string, string[]]> = [
    ["no command", [...URL_FLAG, "--token-env", "T"]],
    ["an unknown command", ["print", ...URL_FLAG, "--token-env", "T"]],
    ["an unknown flag", ["env", ...URL_FLAG, "--token-env", "T", "--secret", "x"]],
    ["no token source outside GitHub", ["env", ...URL_FLAG]],
    ["two token sources", ["env", ...URL_FLAG, "--token-env", "T", "--token-file", "/f"]],
    ["--audience with a token variable", ["env", ...URL_FLAG, "--token-env", "T", "--audience", "x"]],
    ["a bad variable name", ["env", ...URL_FLAG, "--token-env", "1X"]],
    ["a missing value", ["env", "--token-env", "T", "--broker-url"]],
    ["a repeated flag", ["env", ...URL_FLAG, ...URL_FLAG, "--token-env", "T"]],
    ["no broker URL", ["env", "--token-env", "T"]],
    ["a zero deadline", ["env", ...URL_FLAG, "--token-env", "T", "--deadline", "0"]],
    [
      "--region with credential-process",
      ["credential-process", ...URL_FLAG, "--token-env", "T", "--region", "us-east-1"],
    ],
    ["a value on a boolean flag", ["env", ...URL_FLAG, "--token-env", "T", "--debug=yes"]],
  ];
  for (const [name, argv] of bad) {
    it(`refuses ${name} as usage (exit 2)`, () => {
      try {
        parse(argv);
        throw new Error("accepted");
      } catch (error) {
        expect(error).toBeInstanceOf(ClientError);
        expect((error as ClientError).code).toBe("usage");
        expect((error as ClientError).exitCode).toBe(2);
      }
    });
  }
});

describe("parseCliArgs: GitHub token commands", () => {
  it("github-token --name, at the broker's /v1/github-token", () => {
    expect(parse(["github-token", ...URL_FLAG, "--name", "homebrew-tap", "--token-env", "BROKER_ID_TOKEN"])).toEqual({
      command: "github-token",
      endpoint: new URL("https://broker.example/v1/github-token"),
      name: "homebrew-tap",
      gitHost: undefined,
      gitOperation: undefined,
      deadlineMs: undefined,
      debug: false,
      tokenSource: { kind: "env", name: "BROKER_ID_TOKEN" },
    });
  });

  it("git-credential takes the operation git appends; its host defaults to the job's GitHub server, else github.com", () => {
    const args = ["git-credential", "--broker-url=https://broker.example/v1/credentials", "--name", "homebrew-tap"];
    expect(parse([...args, "get"], { GITHUB_ACTIONS: "true" })).toMatchObject({
      command: "git-credential",
      endpoint: new URL("https://broker.example/v1/github-token"),
      gitHost: "github.com",
      gitOperation: "get",
      tokenSource: { kind: "github-actions", audience: "ci-credential-broker" },
    });
    expect(
      parse([...args, "store"], { GITHUB_ACTIONS: "true", GITHUB_SERVER_URL: "https://ghes.example:8443" }),
    ).toMatchObject({ gitHost: "ghes.example:8443", gitOperation: "store" });
    expect(parse([...args, "--token-env", "T", "--host", "GitHub.com", "erase"])).toMatchObject({
      gitHost: "github.com",
      gitOperation: "erase",
    });
    // An operation git may add one day is not an error: the helper ignores it.
    expect(parse([...args, "--token-env", "T", "capability"])).toMatchObject({ gitOperation: undefined });
  });

  it("revoke-github-tokens needs no broker and no token source", () => {
    expect(parse(["revoke-github-tokens", "--debug"])).toMatchObject({
      command: "revoke-github-tokens",
      endpoint: undefined,
      tokenSource: undefined,
      debug: true,
    });
  });

  const bad: Array<[string, string[]]> = [
    ["github-token without --name", ["github-token", ...URL_FLAG, "--token-env", "T"]],
    ["a grant name that is no name", ["github-token", ...URL_FLAG, "--token-env", "T", "--name", "Homebrew Tap"]],
    [
      "--role with a GitHub token",
      ["github-token", ...URL_FLAG, "--token-env", "T", "--name", "x", "--role", "deploy"],
    ],
    ["--name with AWS credentials", ["env", ...URL_FLAG, "--token-env", "T", "--name", "x"]],
    [
      "--host with github-token",
      ["github-token", ...URL_FLAG, "--token-env", "T", "--name", "x", "--host", "github.com"],
    ],
    ["git-credential without an operation", ["git-credential", ...URL_FLAG, "--token-env", "T", "--name", "x"]],
    [
      "git-credential with two operations",
      ["git-credential", ...URL_FLAG, "--token-env", "T", "--name", "x", "get", "store"],
    ],
    [
      "a host with a path",
      ["git-credential", ...URL_FLAG, "--token-env", "T", "--name", "x", "--host", "github.com/acme", "get"],
    ],
    ["revoke-github-tokens with a broker", ["revoke-github-tokens", ...URL_FLAG]],
  ];
  for (const [name, argv] of bad) {
    it(`refuses ${name} as usage (exit 2)`, () => {
      expect(() => parse(argv)).toThrow(ClientError);
    });
  }
});
