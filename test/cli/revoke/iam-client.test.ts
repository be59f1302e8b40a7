// The IAM client (src/cli/revoke/iam-client.ts) against the fake IAM (test/support/fake-iam.ts), which verifies SigV4
// as AWS does and answers in IAM's documented shapes: calls round-trip, errors keep AWS's codes, throttling is retried.
import { describe, expect, it } from "vitest";
import { createIamClient, IamError, type AwsCredentials, type IamClient } from "../../../src/cli/revoke/iam-client.ts";
import { IAM_BACKOFF_BASE_MS } from "../../../src/cli/revoke/constants.ts";
import { createFakeIam, type FakeIam, type IamPrincipal } from "../../support/fake-iam.ts";

const ROLE = "arn:aws:iam::111122223333:role/ci/acme-app-deploy";
const OPERATOR: IamPrincipal = {
  accessKeyId: "AKIAOPERATOR00000001",
  secretAccessKey: "operator-secret-key-000000000000000000000",
  account: "111122223333",
};
const ENDPOINT = "https://iam.amazonaws.com";

function setup(options: { principal?: IamPrincipal; credentials?: AwsCredentials } = {}): {
  fake: FakeIam;
  iam: IamClient;
  sleeps: number[];
} {
  const principal = options.principal ?? OPERATOR;
  const fake = createFakeIam({ now: Date.now, principals: [principal], roles: [ROLE] });
  const sleeps: number[] = [];
  const iam = createIamClient({
    endpoint: ENDPOINT,
    region: "us-east-1",
    credentials: options.credentials ?? {
      accessKeyId: principal.accessKeyId,
      secretAccessKey: principal.secretAccessKey,
      ...(principal.sessionToken === undefined ? {} : { sessionToken: principal.sessionToken }),
    },
    fetch: async (input, init) => fake.handler(new Request(input, init)),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    now: Date.now,
  });
  return { fake, iam, sleeps };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof IamError) return error.code;
    throw error;
  }
  return "no error";
}

describe("IAM client against the fake IAM", () => {
  it("puts, lists, reads back and deletes an inline policy; documents survive IAM's URL-encoding byte for byte", async () => {
    const { fake, iam } = setup();
    const document = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Deny",
          Action: "*",
          Resource: "*",
          Condition: { StringLike: { "aws:PrincipalTag/Ref": "refs/heads/a+b %20&c=d é" } },
        },
      ],
    });
    expect(await iam.getRole("acme-app-deploy")).toEqual({ arn: ROLE, roleName: "acme-app-deploy" });
    await iam.putRolePolicy("acme-app-deploy", "revoke", document);
    expect(await iam.listRolePolicies("acme-app-deploy")).toEqual(["revoke"]);
    expect(await iam.getRolePolicy("acme-app-deploy", "revoke")).toBe(document);
    expect(fake.inlinePolicies(ROLE).get("revoke")).toBe(document);
    await iam.deleteRolePolicy("acme-app-deploy", "revoke");
    expect(await iam.listRolePolicies("acme-app-deploy")).toEqual([]);
  });

  it("signs with a session token when the credentials carry one", async () => {
    const { iam } = setup({
      principal: { ...OPERATOR, accessKeyId: "ASIAOPERATOR00000001", sessionToken: "IQoJb3JpZ2luX2VjEXAMPLETOKEN" },
    });
    expect((await iam.getRole("acme-app-deploy")).arn).toBe(ROLE);
  });

  it("reads every page of ListRolePolicies", async () => {
    const { fake, iam } = setup();
    for (let i = 0; i < 150; i++) fake.putInlinePolicy(ROLE, `p${String(i).padStart(3, "0")}`, "{}");
    const names = await iam.listRolePolicies("acme-app-deploy");
    expect(names).toHaveLength(150);
    expect(new Set(names).size).toBe(150);
  });

  it("keeps AWS's error codes: NoSuchEntity, MalformedPolicyDocument, LimitExceeded, AccessDenied, and SigV4's", async () => {
    const { fake, iam } = setup();
    expect(await codeOf(iam.getRole("nobody"))).toBe("NoSuchEntity");
    expect(await codeOf(iam.deleteRolePolicy("acme-app-deploy", "never-attached"))).toBe("NoSuchEntity");
    expect(
      await codeOf(
        iam.putRolePolicy(
          "acme-app-deploy",
          "bad",
          '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}',
        ),
      ),
    ).toBe("MalformedPolicyDocument");
    fake.putInlinePolicy(
      ROLE,
      "big",
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${"x".repeat(10_200)}` }],
      }),
    );
    expect(
      await codeOf(
        iam.putRolePolicy(
          "acme-app-deploy",
          "more",
          '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}',
        ),
      ),
    ).toBe("LimitExceeded");
    const limited = setup({ principal: { ...OPERATOR, allowedActions: ["GetRole"] } });
    expect(await codeOf(limited.iam.putRolePolicy("acme-app-deploy", "revoke", "{}"))).toBe("AccessDenied");
    const wrongSecret = setup({
      credentials: { accessKeyId: OPERATOR.accessKeyId, secretAccessKey: "not-the-secret-000000000000000000000000000" },
    });
    expect(await codeOf(wrongSecret.iam.getRole("acme-app-deploy"))).toBe("SignatureDoesNotMatch");
    const unknownKey = setup({
      credentials: { accessKeyId: "AKIAUNKNOWN000000000", secretAccessKey: OPERATOR.secretAccessKey },
    });
    expect(await codeOf(unknownKey.iam.getRole("acme-app-deploy"))).toBe("InvalidClientTokenId");
  });

  it("retries Throttling and 5xx with backoff, then gives up with AWS's code", async () => {
    const { fake, iam, sleeps } = setup();
    fake.inject("throttle");
    fake.inject("service_failure");
    expect((await iam.getRole("acme-app-deploy")).arn).toBe(ROLE);
    expect(sleeps).toEqual([IAM_BACKOFF_BASE_MS, 2 * IAM_BACKOFF_BASE_MS]);
    fake.inject("throttle", 3);
    expect(await codeOf(iam.getRole("acme-app-deploy"))).toBe("Throttling");
  });

  it("says what went wrong when the answer is not IAM's or nothing answers", async () => {
    const proxy = createIamClient({
      endpoint: ENDPOINT,
      region: "us-east-1",
      credentials: OPERATOR,
      fetch: async () => new Response("<html>Bad gateway</html>", { status: 502 }),
      sleep: async () => undefined,
      now: Date.now,
    });
    expect(await codeOf(proxy.getRole("x"))).toBe("bad_response");
    const down = createIamClient({
      endpoint: ENDPOINT,
      region: "us-east-1",
      credentials: OPERATOR,
      fetch: async () => Promise.reject(new TypeError("fetch failed")),
      sleep: async () => undefined,
      now: Date.now,
    });
    expect(await codeOf(down.getRole("x"))).toBe("network");
  });
});
