// The git credential helper protocol (git-credential(1)): the description git writes, which requests are the grant's,
// and the answer's exact lines.
import { describe, expect, it } from "vitest";
import { ClientError } from "../../src/client/errors.ts";
import {
  asksFor,
  asksForHost,
  credentialAnswer,
  gitOperation,
  parseCredentialDescription,
  pathAllowed,
  QUIT_ANSWER,
} from "../../src/client/git-credential.ts";
import { GHS } from "./helpers.ts";

const describeGit = (lines: string[]) => parseCredentialDescription(`${lines.join("\n")}\n\n`);

describe("parseCredentialDescription", () => {
  it("reads key=value lines up to the blank line, the last value of a key winning, values kept as-is", () => {
    const description = parseCredentialDescription(
      'protocol=https\nhost=github.com\npath=acme/tap.git\nhost=GitHub.com\nwwwauth[]=Basic realm="GitHub"\nnote=a=b c\n\nhost=evil.example\n',
    );
    expect([...description]).toEqual([
      ["protocol", "https"],
      ["host", "GitHub.com"],
      ["path", "acme/tap.git"],
      ["note", "a=b c"],
    ]);
    // End of input ends the description too, and CRLF (Git for Windows) is read as LF.
    expect(parseCredentialDescription("protocol=https\r\nhost=github.com").get("host")).toBe("github.com");
  });

  it("refuses NUL, which git never sends", () => {
    expect(() => parseCredentialDescription("protocol=https\0\nhost=x\n")).toThrow(ClientError);
  });
});

describe("which requests are the grant's", () => {
  const remote = { protocol: "https", host: "github.com" };

  it("the grant's host over https, host compared without case", () => {
    expect(asksFor(describeGit(["protocol=https", "host=github.com"]), remote)).toBe(true);
    expect(asksFor(describeGit(["protocol=https", "host=GITHUB.COM"]), remote)).toBe(true);
  });

  it.each([
    ["another host", ["protocol=https", "host=gitlab.com"]],
    ["a look-alike host", ["protocol=https", "host=github.com.evil.example"]],
    ["the host with a port", ["protocol=https", "host=github.com:8443"]],
    ["plain http", ["protocol=http", "host=github.com"]],
    ["no protocol", ["host=github.com"]],
    ["no host", ["protocol=https"]],
  ])("not %s", (_name, lines) => {
    expect(asksFor(describeGit(lines), remote)).toBe(false);
    expect(asksForHost(describeGit(lines), "github.com")).toBe(false);
  });

  it("http only for a loopback host (the sandbox), with its port", () => {
    expect(asksForHost(describeGit(["protocol=http", "host=127.0.0.1:8788"]), "127.0.0.1:8788")).toBe(true);
    expect(
      asksFor(describeGit(["protocol=http", "host=127.0.0.1:8788"]), { protocol: "http", host: "127.0.0.1:8788" }),
    ).toBe(true);
    expect(asksForHost(describeGit(["protocol=http", "host=127.0.0.1:8789"]), "127.0.0.1:8788")).toBe(false);
  });

  it("with credential.useHttpPath, only a repository the token reaches", () => {
    const repositories = ["acme/homebrew-tap"];
    expect(pathAllowed(describeGit(["protocol=https", "host=github.com"]), repositories)).toBe(true);
    expect(pathAllowed(describeGit(["path=acme/homebrew-tap.git"]), repositories)).toBe(true);
    expect(pathAllowed(describeGit(["path=Acme/Homebrew-Tap"]), repositories)).toBe(true);
    expect(pathAllowed(describeGit(["path=acme/other.git"]), repositories)).toBe(false);
    expect(pathAllowed(describeGit(["path=acme/homebrew-tap/info/refs"]), repositories)).toBe(false);
  });
});

describe("the answer", () => {
  it("x-access-token, the token, its expiry in Unix seconds; quit stops git", () => {
    expect(credentialAnswer({ token: GHS, expiresAtMs: Date.UTC(2026, 10, 25, 13, 0, 0, 500) })).toBe(
      `username=x-access-token\npassword=${GHS}\npassword_expiry_utc=1795611600\n`,
    );
    expect(QUIT_ANSWER).toBe("quit=1\n");
  });

  it("knows get, store and erase; any other operation is one to ignore", () => {
    expect(["get", "store", "erase", "capability", undefined].map(gitOperation)).toEqual([
      "get",
      "store",
      "erase",
      undefined,
      undefined,
    ]);
  });
});
