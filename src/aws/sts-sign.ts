// The AssumeRole request signed with the broker's key (SigV4 by aws4fetch's AwsV4Signer, whose AwsClient adds fetch
// and retry code we do not use). No I/O; the signing time is passed in (the injected clock's).
import { AwsV4Signer } from "aws4fetch";
import type { AwsOptions } from "./options.ts";

const FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8";

/**
 * aws4fetch's cache of derived SigV4 signing keys (four HMACs per date, region and service), one per broker
 * configuration, so per isolate: a request then costs the body and canonical-request digests and one HMAC.
 */
const signingKeyCaches = new WeakMap<AwsOptions, Map<string, ArrayBuffer>>();

/** The AssumeRole request, signed at `datetime`. */
export async function signedPost(aws: AwsOptions, body: string, datetime: string): Promise<Request> {
  let cache = signingKeyCaches.get(aws);
  if (cache === undefined) {
    cache = new Map();
    signingKeyCaches.set(aws, cache);
  }
  const signed = await new AwsV4Signer({
    url: aws.stsEndpoint,
    method: "POST",
    headers: { "content-type": FORM_CONTENT_TYPE },
    body,
    accessKeyId: aws.accessKeyId,
    secretAccessKey: aws.secretAccessKey,
    ...(aws.sessionToken === undefined ? {} : { sessionToken: aws.sessionToken }),
    service: "sts",
    region: aws.region,
    cache,
    datetime,
  }).sign();
  return new Request(signed.url, { method: signed.method, headers: signed.headers, body });
}

/** SigV4's `X-Amz-Date` form of an instant: `YYYYMMDDTHHMMSSZ`. */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}
