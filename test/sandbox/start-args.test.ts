import { describe, expect, it } from "vitest";
import { parseStartArgs, portInUseMessage, wranglerDevArgs } from "../../sandbox/start-args.ts";

const target = { host: "127.0.0.1", port: 8787, persistTo: "/p/.wrangler/sandbox" };

describe("npm start arguments", () => {
  it("parses the flags and refuses anything else", () => {
    expect(parseStartArgs([])).toEqual({
      verbose: false,
      shadow: false,
      credentialLifetimeSeconds: undefined,
      webIdentity: false,
    });
    expect(parseStartArgs(["--verbose", "--shadow", "--credential-lifetime", "15"])).toEqual({
      verbose: true,
      shadow: true,
      credentialLifetimeSeconds: 15,
      webIdentity: false,
    });
    expect(parseStartArgs(["--web-identity"]).webIdentity).toBe(true);
    for (const bad of [
      ["--shadow=on"],
      ["--credential-lifetime"],
      ["--credential-lifetime", "0"],
      ["--credential-lifetime", "1m"],
      ["start"],
    ]) {
      expect(() => parseStartArgs(bad), bad.join(" ")).toThrow();
    }
  });

  it("runs wrangler dev offline-quiet on the sandbox environment, shadow mode only when asked", () => {
    const plain = wranglerDevArgs(parseStartArgs([]), target);
    expect(plain.slice(0, 3)).toEqual(["dev", "--env", "sandbox"]);
    expect(plain.join(" ")).toContain("--persist-to /p/.wrangler/sandbox");
    // The Worker's console lines are what the exchange lines are made from: a level that hides them would hide the
    // reasons.
    expect(plain[plain.indexOf("--log-level") + 1]).toBe("log");
    expect(plain).not.toContain("--var");
    const shadow = wranglerDevArgs(parseStartArgs(["--shadow"]), target);
    expect(shadow.slice(shadow.indexOf("--var"), shadow.indexOf("--var") + 2)).toEqual(["--var", "SHADOW_POLICY:on"]);
  });

  it("a taken port is one line: which port, and how to find what holds it", () => {
    const line = portInUseMessage("127.0.0.1", 8788);
    expect(line).not.toContain("\n");
    expect(line).toMatch(/^npm start: port 8788 on 127\.0\.0\.1 is in use/);
    expect(line).toContain("ss -ltnp 'sport = :8788'");
  });
});
