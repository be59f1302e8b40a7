// SigV4 verification as the fakes do it (sandbox/fakes/aws-sigv4.ts), through the STS emulator: requests signed by two
// independent signers (aws4fetch and AWS's own @smithy/signature-v4) pass, and each broken part is refused with AWS's
// code.
import { describe, expect, it } from "vitest";
import { isAwsRegionName } from "../../../sandbox/fakes/sts-emulator.ts";
import {
  FORM,
  T0,
  PRINCIPAL,
  setup,
  amzDate,
  signPost,
  assumeRoleParams,
  IDENTITY_PARAMS,
  send,
  xmlValue,
  rebuilt,
  smithySigned,
} from "./sts-requests.ts";

describe("SigV4 verification", () => {
  it("refuses a body changed after signing", async () => {
    const { sts } = setup();
    const request = await signPost(assumeRoleParams());
    const tampered = rebuilt(request, new URLSearchParams(assumeRoleParams({ RoleSessionName: "evil" })).toString());
    const answer = await send(sts, tampered);
    expect([answer.status, answer.code]).toEqual([403, "SignatureDoesNotMatch"]);
    expect(answer.contentType).toBe("text/xml");
    expect(sts.assumeRoleCalls).toHaveLength(0);
  });

  it("refuses a signed header changed after signing, and a signed header removed", async () => {
    const { sts } = setup();
    const request = await signPost(assumeRoleParams(), { headers: { "x-broker-test": "one" } });
    const body = new URLSearchParams(assumeRoleParams()).toString();
    expect(request.headers.get("authorization")).toContain("x-broker-test");
    expect((await send(sts, rebuilt(request, body))).status).toBe(200); // the unmodified copy passes
    expect((await send(sts, rebuilt(request, body, { "x-broker-test": "two" }))).code).toBe("SignatureDoesNotMatch");
    expect((await send(sts, rebuilt(request, body, { "x-broker-test": null }))).code).toBe("SignatureDoesNotMatch");
  });

  it("refuses an X-Amz-Date changed after signing", async () => {
    const { sts } = setup();
    const request = await signPost(assumeRoleParams());
    const answer = await send(
      sts,
      rebuilt(request, new URLSearchParams(assumeRoleParams()).toString(), { "x-amz-date": amzDate(T0 + 1000) }),
    );
    expect([answer.status, answer.code]).toEqual([403, "SignatureDoesNotMatch"]);
  });

  it("accepts a date exactly 5 minutes off and refuses one more second either way", async () => {
    const { sts } = setup();
    const fiveMinutes = 5 * 60 * 1000;
    expect((await send(sts, await signPost(assumeRoleParams(), { atMs: T0 - fiveMinutes }))).status).toBe(200);
    expect((await send(sts, await signPost(assumeRoleParams(), { atMs: T0 + fiveMinutes }))).status).toBe(200);
    const late = await send(sts, await signPost(assumeRoleParams(), { atMs: T0 - fiveMinutes - 1000 }));
    expect([late.status, late.code]).toEqual([403, "SignatureDoesNotMatch"]);
    expect(xmlValue(late.body, "Message")).toMatch(/^Signature expired/);
    const early = await send(sts, await signPost(assumeRoleParams(), { atMs: T0 + fiveMinutes + 1000 }));
    expect([early.status, early.code]).toEqual([403, "SignatureDoesNotMatch"]);
    expect(xmlValue(early.body, "Message")).toMatch(/^Signature not yet current/);
  });

  it("refuses the wrong secret, region scope or service scope with SignatureDoesNotMatch", async () => {
    const { sts } = setup();
    const wrongSecret = await signPost(assumeRoleParams(), {
      creds: { ...PRINCIPAL, secretAccessKey: "not-the-secret-0000000000000000000000000" },
    });
    const wrongRegion = await signPost(assumeRoleParams(), { region: "eu-west-1" });
    const wrongService = await signPost(assumeRoleParams(), { service: "iam" });
    for (const request of [wrongSecret, wrongRegion, wrongService]) {
      const answer = await send(sts, request);
      expect([answer.status, answer.code]).toEqual([403, "SignatureDoesNotMatch"]);
    }
    expect(sts.requestCount).toBe(3);
    expect(sts.assumeRoleCalls).toHaveLength(0);
  });

  it("verifies the configured region", async () => {
    const { sts } = setup({ region: "eu-west-1" });
    expect((await send(sts, await signPost(assumeRoleParams(), { region: "eu-west-1" }))).status).toBe(200);
    expect((await send(sts, await signPost(assumeRoleParams()))).code).toBe("SignatureDoesNotMatch");
  });

  it("answers as the regional endpoint it is told: any region name, signed for that region only", async () => {
    const { sts } = setup();
    for (const region of ["eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"]) {
      const request = await signPost(IDENTITY_PARAMS, { region });
      expect((await sts.handler(request, region)).status).toBe(200);
    }
    // Signed for one region, sent to another region's endpoint (or to the global one): AWS refuses it.
    expect((await send(sts, await signPost(IDENTITY_PARAMS, { region: "eu-west-1" }))).code).toBe(
      "SignatureDoesNotMatch",
    );
    const answer = await sts.handler(await signPost(IDENTITY_PARAMS, { region: "eu-west-1" }), "eu-central-1");
    expect(answer.status).toBe(403);
    expect(xmlValue(await answer.text(), "Code")).toBe("SignatureDoesNotMatch");
  });

  it("knows region names from other strings", () => {
    for (const name of ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-northwest-1", "il-central-1"])
      expect(isAwsRegionName(name)).toBe(true);
    for (const name of ["", "us-east", "US-EAST-1", "us_east_1", "eu-west-1/", "../x", "us-east-123"])
      expect(isAwsRegionName(name)).toBe(false);
  });

  it("answers InvalidClientTokenId for an unknown access key", async () => {
    const { sts } = setup();
    const answer = await send(
      sts,
      await signPost(assumeRoleParams(), { creds: { ...PRINCIPAL, accessKeyId: "AKIAUNKNOWNKEY000001" } }),
    );
    expect([answer.status, answer.code]).toEqual([403, "InvalidClientTokenId"]);
  });

  it("answers MissingAuthenticationToken without Authorization and IncompleteSignature when it is garbled", async () => {
    const { sts } = setup();
    const body = new URLSearchParams(assumeRoleParams()).toString();
    const signed = await signPost(assumeRoleParams());
    const missing = await send(sts, rebuilt(signed, body, { authorization: null }));
    expect([missing.status, missing.code]).toEqual([403, "MissingAuthenticationToken"]);
    const auth = signed.headers.get("authorization") ?? "";
    const garbled = [
      "Bearer abc",
      "AWS4-HMAC-SHA256 garbage",
      auth.replace(/Signature=[0-9a-f]+/, "Signature=xyz"),
      auth.replace(/SignedHeaders=[^,]+/, "SignedHeaders=content-type"),
      auth.replace(/Credential=[^,]+/, `Credential=${PRINCIPAL.accessKeyId}/20261125/us-east-1/sts`),
    ];
    for (const value of garbled) {
      const answer = await send(sts, rebuilt(signed, body, { authorization: value }));
      expect([answer.status, answer.code]).toEqual([403, "IncompleteSignature"]);
    }
    const noDate = await send(sts, rebuilt(signed, body, { "x-amz-date": null }));
    expect(noDate.code).toBe("IncompleteSignature");
  });

  it("refuses a declared payload hash that is not the body's", async () => {
    const { sts } = setup();
    const body = new URLSearchParams(assumeRoleParams()).toString();
    const request = await smithySigned({ method: "POST", body, headers: { "content-type": FORM } });
    expect(request.headers.get("x-amz-content-sha256")).toMatch(/^[0-9a-f]{64}$/);
    const answer = await send(
      sts,
      rebuilt(request, new URLSearchParams(assumeRoleParams({ RoleSessionName: "evil" })).toString()),
    );
    expect([answer.status, answer.code]).toEqual([400, "XAmzContentSHA256Mismatch"]);
    expect(sts.assumeRoleCalls).toHaveLength(0);
  });

  it("refuses a query string changed after signing", async () => {
    const { sts } = setup();
    const request = await smithySigned({ method: "GET", query: assumeRoleParams() });
    const url = new URL(request.url);
    url.searchParams.set("RoleSessionName", "evil");
    const answer = await send(sts, new Request(url, { method: "GET", headers: request.headers }));
    expect(answer.code).toBe("SignatureDoesNotMatch");
  });

  it("requires the session token of a principal that holds temporary credentials", async () => {
    const temporary = {
      accessKeyId: "ASIAPRINCIPAL0000001",
      secretAccessKey: "temporary-principal-secret-000000000000",
      sessionToken: "principal-token",
    };
    const { sts } = setup({ principals: [temporary] });
    expect((await send(sts, await signPost(IDENTITY_PARAMS, { creds: temporary }))).status).toBe(200);
    const { sessionToken: _omit, ...withoutToken } = temporary;
    expect((await send(sts, await signPost(IDENTITY_PARAMS, { creds: withoutToken }))).code).toBe(
      "InvalidClientTokenId",
    );
    expect(
      (await send(sts, await signPost(IDENTITY_PARAMS, { creds: { ...temporary, sessionToken: "other" } }))).code,
    ).toBe("InvalidClientTokenId");
    // A long-term key must not carry a token.
    const { sts: plain } = setup();
    expect(
      (await send(plain, await signPost(IDENTITY_PARAMS, { creds: { ...PRINCIPAL, sessionToken: "x" } }))).code,
    ).toBe("InvalidClientTokenId");
  });
});
