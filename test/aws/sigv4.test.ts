import { AwsClient } from "aws4fetch";
import { describe, expect, it } from "vitest";
import { createSigV4Signer, type SigV4Credentials } from "../../src/aws/sigv4.ts";

// Random per run: no key material in the repository.
const randomText = (bytes: number) => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(bytes))));
const base: SigV4Credentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: randomText(30), sessionToken: undefined, region: "eu-west-1", service: "sts" };
const CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8";
const BODY = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeploy&Tags.member.1.Value=a+b";

/** The same request signed by aws4fetch, an independent implementation (also checked against AWS's own signer in test/support). */
async function reference(endpoint: string, credentials: SigV4Credentials, amzDate: string, body = BODY): Promise<Request> {
  const client = new AwsClient({ ...credentials, ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }), retries: 0 });
  return client.sign(endpoint, { method: "POST", headers: { "content-type": CONTENT_TYPE }, body, aws: { datetime: amzDate } });
}

const signedHeaders = (request: Request) => ["authorization", "x-amz-date", "x-amz-security-token", "content-type"].map((name) => request.headers.get(name));

describe("createSigV4Signer", () => {
  it.each([
    ["https://sts.eu-west-1.amazonaws.com", base],
    ["https://sts.eu-west-1.amazonaws.com/", { ...base, sessionToken: `IQoJb3JpZ2luX2VjE${randomText(200)}` }],
    ["http://127.0.0.1:8788/sts//a b/?b=2&a=1&a=0&c=x%20y", base],
  ])("signs %s exactly as aws4fetch does", async (endpoint, credentials) => {
    const signer = createSigV4Signer(endpoint, credentials);
    const ours = await signer.signPost(BODY, CONTENT_TYPE, "20261129T221500Z");
    const theirs = await reference(endpoint, credentials, "20261129T221500Z");
    expect(signedHeaders(ours)).toEqual(signedHeaders(theirs));
    expect(ours.url).toBe(theirs.url);
    expect(ours.method).toBe("POST");
    expect(new TextDecoder().decode(await ours.arrayBuffer())).toBe(BODY);
  });

  it("derives a new signing key when the date changes, and signs each body and time on its own", async () => {
    const signer = createSigV4Signer("https://sts.eu-west-1.amazonaws.com", base);
    for (const [amzDate, body] of [
      ["20261129T235959Z", BODY],
      ["20261130T000001Z", BODY],
      ["20261130T000002Z", `${BODY}&x=1`],
      ["20261129T235959Z", BODY],
    ] as const) {
      const ours = await signer.signPost(body, CONTENT_TYPE, amzDate);
      expect(signedHeaders(ours)).toEqual(signedHeaders(await reference("https://sts.eu-west-1.amazonaws.com", base, amzDate, body)));
    }
  });

  it("another secret gives another signature", async () => {
    const one = await createSigV4Signer("https://sts.eu-west-1.amazonaws.com", base).signPost(BODY, CONTENT_TYPE, "20261129T221500Z");
    const other = await createSigV4Signer("https://sts.eu-west-1.amazonaws.com", { ...base, secretAccessKey: randomText(30) }).signPost(BODY, CONTENT_TYPE, "20261129T221500Z");
    expect(one.headers.get("authorization")).not.toBe(other.headers.get("authorization"));
  });
});
