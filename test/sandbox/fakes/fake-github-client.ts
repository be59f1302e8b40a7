// A client of the fake GitHub API for its own tests (fake-github-api.test.ts, fake-github-apps.test.ts): a fake with
// two repositories, the App's JWT, a call helper that reads JSON answers, and an installation token.
import { expect } from "vitest";
import { signAppJwt } from "../../../src/github/app-key.ts";
import { createFakeGitHub, type FakeGitHub } from "../../../sandbox/fakes/fake-github-api.ts";
import { generateAppKey } from "../../../sandbox/fakes/github-app-key.ts";

export const NOW = Date.UTC(2026, 10, 25, 12);
export const SHA = "a".repeat(40);
export const BASE = "https://api.github.example";
export const keys = generateAppKey();

/** Calls the fake as a client would, and reads its JSON answer (GitHub's shapes are asserted with toMatchObject). */
export function callerOf(github: FakeGitHub) {
  return async (method: string, path: string, auth: string, body?: unknown) => {
    const response = await github.handler(
      new Request(`${BASE}${path}`, {
        method,
        headers: { authorization: `Bearer ${auth}`, "user-agent": "test" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
    return {
      status: response.status,
      body: (response.status === 204 ? {} : await response.json()) as Record<string, any>,
    };
  };
}

export async function fake(appPermissions?: Record<string, string>): Promise<{
  github: FakeGitHub;
  call: (
    method: string,
    path: string,
    auth: string,
    body?: unknown,
  ) => Promise<{ status: number; body: Record<string, any> }>;
  jwt: string;
}> {
  const key = await keys;
  const github = createFakeGitHub({
    appId: "42",
    appPublicKey: key.publicKey,
    now: () => NOW,
    ...(appPermissions === undefined ? {} : { appPermissions }),
  });
  github.addRepository("acme/app", 10);
  github.addRepository("acme/web", 11);
  const jwt = (await signAppJwt("42", key.privateKey, NOW)).jwt;
  return { github, call: callerOf(github), jwt };
}

export async function token(f: Awaited<ReturnType<typeof fake>>, body: unknown = {}): Promise<string> {
  const installation = (await f.call("GET", "/repos/acme/app/installation", f.jwt)).body.id as number;
  const answer = await f.call("POST", `/app/installations/${installation}/access_tokens`, f.jwt, body);
  expect(answer.status).toBe(201);
  return answer.body.token as string;
}
