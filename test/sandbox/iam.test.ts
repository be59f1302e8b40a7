// The sandbox IAM (sandbox/iam.ts): every account's derived keys work, roles exist in the signer's account when
// first named, and any other key is refused as AWS refuses an unknown one.
import { describe, expect, it } from "vitest";
import { createIamClient, IamError, type AwsCredentials } from "../../src/cli/revoke/iam-client.ts";
import { createSandboxIam, sandboxIamKeys } from "../../sandbox/iam.ts";

const client = (credentials: AwsCredentials) => {
  const iam = createSandboxIam();
  return createIamClient({
    endpoint: "http://127.0.0.1:8788/iam",
    region: "us-east-1",
    credentials,
    fetch: async (input, init) => iam.handler(new Request(input, init)),
    sleep: async () => undefined,
    now: Date.now,
  });
};

describe("sandbox IAM", () => {
  it("accepts each account's derived keys and finds any role in that account", async () => {
    for (const account of ["111122223333", "444455556666"]) {
      const iam = client(sandboxIamKeys(account));
      expect(await iam.getRole("infra-deploy")).toEqual({
        arn: `arn:aws:iam::${account}:role/infra-deploy`,
        roleName: "infra-deploy",
      });
      await iam.putRolePolicy(
        "infra-deploy",
        "p",
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}',
      );
      expect(await iam.listRolePolicies("infra-deploy")).toEqual(["p"]);
    }
    expect(sandboxIamKeys("111122223333").accessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
  });

  it("refuses any other key, and a derived key id with another secret", async () => {
    const unknown = client({
      accessKeyId: "AKIAIOSFODNN7EXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRiCYEXAMPLEKEY",
    });
    await expect(unknown.getRole("x")).rejects.toMatchObject({ code: "InvalidClientTokenId" });
    const forged = client({ accessKeyId: sandboxIamKeys("111122223333").accessKeyId, secretAccessKey: "guessed" });
    await expect(forged.getRole("x")).rejects.toBeInstanceOf(IamError);
    await expect(forged.getRole("x")).rejects.toMatchObject({ code: "SignatureDoesNotMatch" });
  });
});
