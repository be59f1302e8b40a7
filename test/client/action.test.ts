import { describe, expect, it } from "vitest";
import {
  credentialProcessCommand,
  gitCredentialHelperCommand,
  inputVariable,
  parseActionInputs,
  planGithubToken,
  planMain,
  planPost,
  type ActionInputs,
} from "../../src/client/action.ts";
import { parseGithubToken } from "../../src/client/github-token.ts";
import { ClientError } from "../../src/client/errors.ts";
import {
  debugCommand,
  errorCommand,
  escapeData,
  fileCommandEntries,
  maskCommand,
  newDelimiter,
  noticeCommand,
  warningCommand,
} from "../../src/client/github-commands.ts";
import { expectedCredentials, GHS, SECRET, SESSION_TOKEN, START_MS, tokenBody } from "./helpers.ts";

const D = newDelimiter("3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b");
const credentials = expectedCredentials();
const CP =
  '"/opt/node24/bin/node" "/actions/broker/client-dist/cli.mjs" credential-process --broker-url https://broker.example/v1/credentials';

function inputs(overrides: Partial<ActionInputs> = {}): ActionInputs {
  return {
    endpoint: new URL("https://broker.example/v1/credentials"),
    audience: "ci-credential-broker",
    aws: true,
    githubTokenName: undefined,
    githubTokenEndpoint: new URL("https://broker.example/v1/github-token"),
    role: "deploy",
    durationSeconds: undefined,
    outputMode: "env",
    region: undefined,
    ...overrides,
  };
}

describe("planMain: env mode", () => {
  it("masks the secret key and session token, exports the three variables in heredoc form, records them for post", () => {
    const plan = planMain(credentials, inputs({ region: "eu-west-1" }), "req-1", CP, D);
    expect(plan.masks).toEqual([
      "::add-mask::ASIAEXAMPLE0000001",
      `::add-mask::${SECRET}`,
      `::add-mask::${SESSION_TOKEN}`,
    ]);
    expect(plan.env).toBe(
      `AWS_ACCESS_KEY_ID<<${D}\nASIAEXAMPLE0000001\n${D}\n` +
        `AWS_SECRET_ACCESS_KEY<<${D}\n${SECRET}\n${D}\n` +
        `AWS_SESSION_TOKEN<<${D}\n${SESSION_TOKEN}\n${D}\n` +
        `AWS_REGION<<${D}\neu-west-1\n${D}\n` +
        `AWS_DEFAULT_REGION<<${D}\neu-west-1\n${D}\n`,
    );
    expect(plan.output).toBe(
      `aws-expiration<<${D}\n2026-11-25T12:15:00Z\n${D}\ncredential-process<<${D}\n${CP}\n${D}\n`,
    );
    expect(plan.state).toBe(
      `exported<<${D}\nAWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN,AWS_REGION,AWS_DEFAULT_REGION\n${D}\n`,
    );
    expect(plan.summary).toContain("role deploy");
    // The access key id names its account (sts:GetAccessKeyInfo): masked in the summary, and masked by the runner too.
    expect(plan.summary).toContain("ASIA**********0001");
    expect(plan.summary).not.toContain("ASIAEXAMPLE0000001");
    expect(plan.summary).toContain("req-1");
    expect(plan.summary).not.toContain(SECRET);
    expect(plan.summary).not.toContain(SESSION_TOKEN);
  });

  it("without a region exports only the three credential variables", () => {
    const plan = planMain(credentials, inputs(), undefined, CP, D);
    expect(plan.env.match(/<</g)).toHaveLength(3);
    expect(plan.state).toBe(`exported<<${D}\nAWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN\n${D}\n`);
  });
});

describe("planMain: outputs mode", () => {
  it("sets step outputs only, leaves GITHUB_ENV alone and gives post nothing to clear", () => {
    const plan = planMain(credentials, inputs({ outputMode: "outputs", region: "us-east-1" }), undefined, CP, D);
    expect(plan.masks).toEqual([
      "::add-mask::ASIAEXAMPLE0000001",
      `::add-mask::${SECRET}`,
      `::add-mask::${SESSION_TOKEN}`,
    ]);
    expect(plan.env).toBe("");
    expect(plan.output).toBe(
      `aws-access-key-id<<${D}\nASIAEXAMPLE0000001\n${D}\n` +
        `aws-secret-access-key<<${D}\n${SECRET}\n${D}\n` +
        `aws-session-token<<${D}\n${SESSION_TOKEN}\n${D}\n` +
        `aws-expiration<<${D}\n2026-11-25T12:15:00Z\n${D}\n` +
        `aws-region<<${D}\nus-east-1\n${D}\n` +
        `credential-process<<${D}\n${CP}\n${D}\n`,
    );
    expect(plan.state).toBe(`exported<<${D}\n\n${D}\n`);
    expect(planPost("", D)).toEqual({ env: "", cleared: [] });
  });
});

describe("planGithubToken", () => {
  const token = parseGithubToken(JSON.stringify(tokenBody()), START_MS);

  it("masks the token, sets github-token, its expiry and the git helper as outputs, and logs no secret", () => {
    const plan = planGithubToken(token, "homebrew-tap", "req-1", "!helper", D);
    expect(plan.mask).toBe(`::add-mask::${GHS}`);
    expect(plan.output).toBe(
      `github-token<<${D}\n${GHS}\n${D}\ngithub-token-expires-at<<${D}\n${token.expiresAt}\n${D}\ngit-credential-helper<<${D}\n!helper\n${D}\n`,
    );
    expect(plan.summary).toBe(
      `GitHub token homebrew-tap: acme/homebrew-tap (contents: write, metadata: read, pull_requests: write), expires ${token.expiresAt}, request id req-1. Set as step output github-token; the post step revokes it.`,
    );
  });

  it("the git helper runs the bundled CLI through the shell (`!`), quoted, for the same broker, grant and audience", () => {
    expect(gitCredentialHelperCommand("/opt/node 24/bin/node", "/a/cli.mjs", inputs(), "homebrew-tap")).toBe(
      `!"/opt/node 24/bin/node" "/a/cli.mjs" git-credential --broker-url 'https://broker.example/v1/github-token' --name homebrew-tap --github-actions --audience 'ci-credential-broker'`,
    );
    for (const path of ['/n"', "/n$(id)", "/n`id`"])
      expect(() => gitCredentialHelperCommand(path, "/c", inputs(), "x")).toThrow(ClientError);
  });
});

describe("credentialProcessCommand", () => {
  it("runs the bundled CLI with the Action's inputs, paths quoted for shlex", () => {
    expect(credentialProcessCommand("/opt/node 24/bin/node", "/a/cli.mjs", inputs({ durationSeconds: 3600 }))).toBe(
      '"/opt/node 24/bin/node" "/a/cli.mjs" credential-process --broker-url https://broker.example/v1/credentials --github-actions --audience ci-credential-broker --role deploy --duration 3600',
    );
    expect(credentialProcessCommand("/n", "/c", inputs({ role: undefined }))).toBe(
      '"/n" "/c" credential-process --broker-url https://broker.example/v1/credentials --github-actions --audience ci-credential-broker',
    );
    expect(() => credentialProcessCommand('/n"', "/c", inputs())).toThrow(ClientError);
  });
});

describe("planPost", () => {
  it("overwrites every exported variable with an empty value", () => {
    expect(
      planPost("AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN,AWS_REGION,AWS_DEFAULT_REGION", D),
    ).toEqual({
      env:
        `AWS_ACCESS_KEY_ID<<${D}\n\n${D}\n` +
        `AWS_SECRET_ACCESS_KEY<<${D}\n\n${D}\n` +
        `AWS_SESSION_TOKEN<<${D}\n\n${D}\n` +
        `AWS_REGION<<${D}\n\n${D}\n` +
        `AWS_DEFAULT_REGION<<${D}\n\n${D}\n`,
      cleared: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"],
    });
  });

  it("clears nothing but the AWS variables it may have exported, whatever the state says", () => {
    expect(planPost("PATH,AWS_SESSION_TOKEN,GITHUB_TOKEN", D).cleared).toEqual(["AWS_SESSION_TOKEN"]);
    expect(planPost(undefined, D)).toEqual({ env: "", cleared: [] });
  });
});

describe("workflow and file commands", () => {
  it("escapes command data so a value cannot end its own command", () => {
    expect(escapeData("a%b\r\nc")).toBe("a%25b%0D%0Ac");
    expect(maskCommand("x\ny")).toBe("::add-mask::x%0Ay");
    expect(debugCommand("attempt 1: HTTP 429")).toBe("::debug::attempt 1: HTTP 429");
    expect(errorCommand("ci-credentials: forbidden", "line 1\nline 2")).toBe(
      "::error title=ci-credentials%3A forbidden::line 1%0Aline 2",
    );
    expect(warningCommand("ci-credentials: OIDC token replayed", "used\nonce")).toBe(
      "::warning title=ci-credentials%3A OIDC token replayed::used%0Aonce",
    );
    expect(noticeCommand("ci-credentials: credential lifetime", "900 s, not 3600 s")).toBe(
      "::notice title=ci-credentials%3A credential lifetime::900 s, not 3600 s",
    );
  });

  it("refuses a value that contains the delimiter, and names that are not variable names", () => {
    expect(() => fileCommandEntries([["X", `a\n${D}\nEVIL=1`]], D)).toThrow(ClientError);
    expect(() => fileCommandEntries([["X=1", "a"]], D)).toThrow(ClientError);
    expect(newDelimiter("u")).toBe("ghadelimiter_u");
  });
});

describe("parseActionInputs", () => {
  const base = {
    "INPUT_BROKER-URL": "https://broker.example",
    INPUT_AUDIENCE: "",
    INPUT_ROLE: "",
    INPUT_DURATION: "",
    INPUT_REGION: "",
    "INPUT_OUTPUT-MODE": "",
  };
  const read = (env: Record<string, string>) => parseActionInputs((name) => env[name]);

  it("reads INPUT_<NAME> as the runner sets it (hyphens kept), with defaults", () => {
    expect(inputVariable("broker-url")).toBe("INPUT_BROKER-URL");
    expect(read(base)).toEqual({
      endpoint: new URL("https://broker.example/v1/credentials"),
      audience: "ci-credential-broker",
      aws: true,
      githubTokenName: undefined,
      githubTokenEndpoint: new URL("https://broker.example/v1/github-token"),
      role: undefined,
      durationSeconds: undefined,
      outputMode: "env",
      region: undefined,
    });
    expect(
      read({
        ...base,
        INPUT_ROLE: "deploy",
        INPUT_DURATION: "3600",
        INPUT_REGION: "eu-west-1",
        "INPUT_OUTPUT-MODE": "outputs",
        INPUT_AUDIENCE: "sts.example",
      }),
    ).toMatchObject({
      role: "deploy",
      durationSeconds: 3600,
      region: "eu-west-1",
      outputMode: "outputs",
      audience: "sts.example",
    });
  });

  it("accepts aws-actions/configure-aws-credentials' aws-region and role-duration-seconds as aliases", () => {
    const aliased = { ...base, "INPUT_AWS-REGION": "eu-west-1", "INPUT_ROLE-DURATION-SECONDS": "3600" };
    expect(read(aliased)).toMatchObject({ region: "eu-west-1", durationSeconds: 3600 });
    // Both names with the same value: one setting, no conflict.
    expect(read({ ...aliased, INPUT_REGION: "eu-west-1", INPUT_DURATION: "3600" })).toMatchObject({
      region: "eu-west-1",
      durationSeconds: 3600,
    });
    // An alias left at its empty default never overrides ours.
    expect(read({ ...base, INPUT_REGION: "us-east-2", "INPUT_AWS-REGION": "" })).toMatchObject({ region: "us-east-2" });
  });

  it("a GitHub token alone asks for no AWS credentials; an AWS input beside it asks for both", () => {
    expect(read({ ...base, "INPUT_GITHUB-TOKEN-NAME": "homebrew-tap" })).toMatchObject({
      aws: false,
      githubTokenName: "homebrew-tap",
    });
    for (const input of [
      "INPUT_ROLE",
      "INPUT_DURATION",
      "INPUT_REGION",
      "INPUT_AWS-REGION",
      "INPUT_ROLE-DURATION-SECONDS",
    ]) {
      const value = input.includes("DURATION") ? "900" : input.includes("REGION") ? "eu-west-1" : "deploy";
      expect(read({ ...base, "INPUT_GITHUB-TOKEN-NAME": "homebrew-tap", [input]: value })).toMatchObject({
        aws: true,
        githubTokenName: "homebrew-tap",
      });
    }
    // A broker URL given with a route still reaches both routes.
    expect(read({ ...base, "INPUT_BROKER-URL": "https://broker.example/base/v1/credentials" })).toMatchObject({
      endpoint: new URL("https://broker.example/base/v1/credentials"),
      githubTokenEndpoint: new URL("https://broker.example/base/v1/github-token"),
    });
  });

  const bad: Array<[string, Record<string, string>]> = [
    ["a grant name that is no name", { ...base, "INPUT_GITHUB-TOKEN-NAME": "Homebrew Tap" }],
    [
      "region and aws-region set to different values",
      { ...base, INPUT_REGION: "eu-west-1", "INPUT_AWS-REGION": "us-east-1" },
    ],
    [
      "duration and role-duration-seconds set to different values",
      { ...base, INPUT_DURATION: "900", "INPUT_ROLE-DURATION-SECONDS": "3600" },
    ],
    ["an invalid aws-region alone", { ...base, "INPUT_AWS-REGION": "Europe" }],
    ["an invalid role-duration-seconds alone", { ...base, "INPUT_ROLE-DURATION-SECONDS": "60" }],
    ["missing broker-url", { ...base, "INPUT_BROKER-URL": "" }],
    ["an ARN as role", { ...base, INPUT_ROLE: "arn:aws:iam::111122223333:role/x" }],
    ["duration below 900", { ...base, INPUT_DURATION: "60" }],
    ["duration not a number", { ...base, INPUT_DURATION: "1h" }],
    ["duration above 43200", { ...base, INPUT_DURATION: "43201" }],
    ["an unknown output mode", { ...base, "INPUT_OUTPUT-MODE": "file" }],
    ["a region that is not one", { ...base, INPUT_REGION: "Europe" }],
    ["an audience with a space", { ...base, INPUT_AUDIENCE: "a b" }],
    ["an audience with a shell substitution", { ...base, INPUT_AUDIENCE: "a$(id)" }],
    ["an audience with quotes", { ...base, INPUT_AUDIENCE: `a'b"c` }],
    ["http to a non-loopback host", { ...base, "INPUT_BROKER-URL": "http://broker.example" }],
  ];
  for (const [name, env] of bad) {
    it(`refuses ${name} as usage (exit 2)`, () => {
      try {
        read(env);
        throw new Error("accepted");
      } catch (error) {
        expect((error as ClientError).code).toBe("usage");
        expect((error as ClientError).exitCode).toBe(2);
      }
    });
  }
});
