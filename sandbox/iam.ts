// The sandbox's IAM (`http://127.0.0.1:8788/iam`): the fake IAM of the tests (sandbox/fakes/fake-iam.ts), so
// `npm run revoke -- --apply` can be tried offline. It knows no AWS account in advance: every account has every role
// (created when first named), and each account's operator key is derived from the account id, printed by
// `npm run -s sandbox -- aws-keys <account>`. Nothing here is a real credential. docs/sandbox.md.
import { createFakeIam, type FakeIam, type IamPrincipal } from "./fakes/fake-iam.ts";

/** `AKIA` + `SBX0` + the 12-digit account: 20 characters, as AWS access key ids are. */
const SANDBOX_KEY_ID = /^AKIASBX0(\d{12})$/;

/** The sandbox IAM's key pair for one account. */
export function sandboxIamKeys(account: string): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: `AKIASBX0${account}`, secretAccessKey: `sandbox-iam-${account}-not-a-real-secret` };
}

export function createSandboxIam(): FakeIam {
  return createFakeIam({
    now: Date.now,
    principals: [],
    rolesOnDemand: true,
    resolvePrincipal: (accessKeyId): IamPrincipal | undefined => {
      const account = SANDBOX_KEY_ID.exec(accessKeyId)?.[1];
      return account === undefined ? undefined : { ...sandboxIamKeys(account), account };
    },
  });
}
