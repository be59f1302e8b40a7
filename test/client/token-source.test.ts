import { describe, expect, it } from "vitest";
import type { ClientError } from "../../src/client/errors.ts";
import { actionsTokenSource, envTokenSource, fileTokenSource } from "../../src/client/token-source.ts";
import { failure, fakeJwt } from "./helpers.ts";

const REQUEST_URL = "https://pipelines.actions.example/oidc/token?api-version=2.0";

function endpoint(answer: (request: Request) => Response) {
  const requests: Request[] = [];
  const fetch = async (input: Request | string | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push(request);
    return answer(request);
  };
  return { fetch, requests };
}

describe("actionsTokenSource", () => {
  it("GETs the runner's URL with &audience= (URL-encoded) and `bearer` request token, a new token each call", async () => {
    let n = 0;
    const server = endpoint(() => Response.json({ count: 1, value: fakeJwt(++n) }));
    const source = actionsTokenSource({
      requestUrl: REQUEST_URL,
      requestToken: "request-token-secret",
      audience: "https://broker.example/a b",
      fetch: server.fetch,
    });
    expect(await source.mint()).toBe(fakeJwt(1));
    expect(await source.mint()).toBe(fakeJwt(2));
    expect(server.requests.map((r) => r.url)).toEqual([
      `${REQUEST_URL}&audience=https%3A%2F%2Fbroker.example%2Fa%20b`,
      `${REQUEST_URL}&audience=https%3A%2F%2Fbroker.example%2Fa%20b`,
    ]);
    expect(server.requests[0]?.method).toBe("GET");
    expect(server.requests[0]?.headers.get("authorization")).toBe("bearer request-token-secret");
  });

  it("adds ?audience= when the URL has no query", async () => {
    const server = endpoint(() => Response.json({ value: fakeJwt(1) }));
    await actionsTokenSource({
      requestUrl: "https://t.example/token",
      requestToken: "t",
      audience: "aud",
      fetch: server.fetch,
    }).mint();
    expect(server.requests[0]?.url).toBe("https://t.example/token?audience=aud");
  });

  for (const [name, requestUrl, requestToken] of [
    ["URL absent", undefined, "t"],
    ["URL empty", "", "t"],
    ["request token absent", REQUEST_URL, undefined],
  ] as const) {
    it(`${name}: id_token_permission_missing (exit 3) with the permissions block to add`, () => {
      try {
        actionsTokenSource({ requestUrl, requestToken, audience: "aud", fetch: endpoint(() => new Response()).fetch });
        throw new Error("accepted");
      } catch (error) {
        expect((error as ClientError).code).toBe("id_token_permission_missing");
        expect((error as ClientError).exitCode).toBe(3);
        expect((error as ClientError).message).toContain("id-token: write");
      }
    });
  }

  const answers: Array<[string, () => Response, boolean]> = [
    ["HTTP 500", () => new Response("oops", { status: 500 }), true],
    ["HTTP 429", () => new Response("slow down", { status: 429 }), true],
    ["HTTP 403", () => new Response("no", { status: 403 }), false],
    ["no value", () => Response.json({ count: 0 }), false],
    ["a value that is not a JWT", () => Response.json({ value: "not a token" }), false],
    ["a non-JSON body", () => new Response("<html>"), false],
  ];
  for (const [name, answer, transient] of answers) {
    it(`${name}: id_token_unavailable, ${transient ? "transient" : "final"}`, async () => {
      const source = actionsTokenSource({
        requestUrl: REQUEST_URL,
        requestToken: "t",
        audience: "aud",
        fetch: endpoint(answer).fetch,
      });
      const error = await failure(source.mint());
      expect(error.code).toBe("id_token_unavailable");
      expect(error.exitCode).toBe(4);
      expect(error.transient).toBe(transient);
    });
  }

  it("a network failure is transient", async () => {
    const source = actionsTokenSource({
      requestUrl: REQUEST_URL,
      requestToken: "t",
      audience: "aud",
      fetch: async () => {
        throw new TypeError("fetch failed");
      },
    });
    expect((await failure(source.mint())).transient).toBe(true);
  });
});

describe("envTokenSource", () => {
  it("reads the variable on every call", async () => {
    const env: Record<string, string> = { BROKER_ID_TOKEN: ` ${fakeJwt(1)}\n` };
    const source = envTokenSource("BROKER_ID_TOKEN", (name) => env[name]);
    expect(await source.mint()).toBe(fakeJwt(1));
    env.BROKER_ID_TOKEN = fakeJwt(2);
    expect(await source.mint()).toBe(fakeJwt(2));
    expect(source.description).toBe("environment variable BROKER_ID_TOKEN");
  });

  it("an unset variable says how GitLab provides one", async () => {
    const error = await failure(envTokenSource("BROKER_ID_TOKEN", () => undefined).mint());
    expect(error.code).toBe("id_token_unavailable");
    expect(error.message).toContain("id_tokens");
    expect(error.transient).toBe(false);
  });
});

describe("fileTokenSource", () => {
  it("re-reads the file on every call", async () => {
    const files = new Map([["/run/token", fakeJwt(1)]]);
    const source = fileTokenSource("/run/token", async (path) => files.get(path) ?? "");
    expect(await source.mint()).toBe(fakeJwt(1));
    files.set("/run/token", `${fakeJwt(2)}\n`);
    expect(await source.mint()).toBe(fakeJwt(2));
  });

  it("an unreadable, empty or junk file is id_token_unavailable", async () => {
    const unreadable = fileTokenSource("/nope", async () => {
      throw new Error("ENOENT");
    });
    expect((await failure(unreadable.mint())).code).toBe("id_token_unavailable");
    expect((await failure(fileTokenSource("/f", async () => "  \n").mint())).code).toBe("id_token_unavailable");
    expect((await failure(fileTokenSource("/f", async () => "a.b").mint())).code).toBe("id_token_unavailable");
  });
});
