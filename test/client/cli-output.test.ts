// what the CLI prints to stderr. Under GitHub Actions, ::add-mask:: lines for all three credential values
// (credential_process mode included); the `env` summary never shows the whole access key id.
import { describe, expect, it } from "vitest";
import { cliStderr } from "../../src/client/cli-output.ts";
import { maskedAccessKeyId } from "../../src/client/credentials.ts";
import { expectedCredentials, SECRET, SESSION_TOKEN } from "./helpers.ts";

const credentials = expectedCredentials();
const KEY_ID = credentials.accessKeyId;

describe("cliStderr", () => {
  it("credential-process under GitHub Actions: masks for the key id, the secret key and the session token, nothing else", () => {
    expect(cliStderr("credential-process", credentials, "req-1", true)).toBe(
      `::add-mask::${KEY_ID}\n::add-mask::${SECRET}\n::add-mask::${SESSION_TOKEN}\n`,
    );
  });

  it("credential-process elsewhere: silent (stdout carries only the JSON)", () => {
    expect(cliStderr("credential-process", credentials, "req-1", false)).toBe("");
  });

  it("env: the summary shows the key id masked; under GitHub Actions the masks come first", () => {
    const plain = cliStderr("env", credentials, "req-1", false);
    expect(plain).toBe(
      `ci-credentials: AccessKeyId ${maskedAccessKeyId(KEY_ID)}, expire ${credentials.expiration}, request id req-1\n`,
    );
    expect(plain).not.toContain(KEY_ID);
    const actions = cliStderr("env", credentials, undefined, true).split("\n");
    expect(actions.slice(0, 3)).toEqual([
      `::add-mask::${KEY_ID}`,
      `::add-mask::${SECRET}`,
      `::add-mask::${SESSION_TOKEN}`,
    ]);
    expect(actions[3]).not.toContain(KEY_ID);
  });

  it("maskedAccessKeyId keeps the kind prefix and the last four characters", () => {
    expect(maskedAccessKeyId("ASIAIOSFODNN7EXAMPLE")).toBe("ASIA************MPLE");
    expect(maskedAccessKeyId("AKIAIOSFODNN7EXAMPLE")).toBe("AKIA************MPLE");
  });
});
