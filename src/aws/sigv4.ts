// AWS Signature Version 4 for the broker's one signed call: a POST of a form body to STS, credentials in headers.
// WebCrypto only; no clock (the caller passes the request time). Per signer (one per broker configuration, so per
// isolate): the URL's canonical parts are computed once, and the day's signing key is derived once per date and kept as
// a non-extractable HMAC CryptoKey, so a request costs two SHA-256 digests and one HMAC (docs/performance.md).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
// Signed headers are `host`, `x-amz-date` and `x-amz-security-token` (when the broker's key is temporary), as aws4fetch
// signs them; `content-type` travels unsigned there too.

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
  region: string;
  service: string;
}

export interface SigV4Signer {
  /** The signed POST of `body` (sent as `contentType`) at `amzDate` (`YYYYMMDDTHHMMSSZ`, the request time). */
  signPost(body: string, contentType: string, amzDate: string): Promise<Request>;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const utf8 = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

function hex(buffer: ArrayBuffer): string {
  let out = "";
  for (const byte of new Uint8Array(buffer)) out += HEX[byte];
  return out;
}

/** RFC 3986 unreserved characters only: encodeURIComponent leaves `!'()*` as they are. */
function encodeRfc3986(text: string): string {
  return text.replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

async function hmac(key: ArrayBuffer | Uint8Array, data: string): Promise<ArrayBuffer> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", cryptoKey, utf8.encode(data));
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"), as a CryptoKey. */
async function signingKey(credentials: SigV4Credentials, date: string): Promise<CryptoKey> {
  const kDate = await hmac(utf8.encode(`AWS4${credentials.secretAccessKey}`), date);
  const kRegion = await hmac(kDate, credentials.region);
  const kService = await hmac(kRegion, credentials.service);
  const kSigning = await hmac(kService, "aws4_request");
  return crypto.subtle.importKey("raw", kSigning, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** The canonical URI (path segments encoded twice, as every service but S3 expects) and canonical query string. */
function canonicalTarget(url: URL): { path: string; query: string } {
  const path = encodeRfc3986(encodeURIComponent(url.pathname.replace(/\/+/g, "/")).replace(/%2F/g, "/"));
  const query = [...url.searchParams]
    .filter(([name]) => name !== "")
    .map(([name, value]) => [encodeRfc3986(encodeURIComponent(name)), encodeRfc3986(encodeURIComponent(value))] as const)
    .sort(([n1, v1], [n2, v2]) => (n1 < n2 ? -1 : n1 > n2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  return { path, query };
}

export function createSigV4Signer(endpoint: string, credentials: SigV4Credentials): SigV4Signer {
  const url = new URL(endpoint);
  const { path, query } = canonicalTarget(url);
  const token = credentials.sessionToken === "" ? undefined : credentials.sessionToken;
  const signedHeaders = token === undefined ? "host;x-amz-date" : "host;x-amz-date;x-amz-security-token";
  const tokenLine = token === undefined ? "" : `x-amz-security-token:${token.trim().replace(/\s+/g, " ")}\n`;
  const canonicalPrefix = `POST\n${path}\n${query}\nhost:${url.host}\n`;
  // One derivation per UTC date; the previous day's key is dropped when the date changes.
  let cached: { date: string; key: Promise<CryptoKey> } | undefined;

  function keyFor(date: string): Promise<CryptoKey> {
    if (cached?.date !== date) {
      const key = signingKey(credentials, date);
      // A failed derivation is not kept: the next request derives again.
      key.catch(() => {
        if (cached?.key === key) cached = undefined;
      });
      cached = { date, key };
    }
    return cached.key;
  }

  return {
    async signPost(body, contentType, amzDate) {
      const date = amzDate.slice(0, 8);
      const scope = `${date}/${credentials.region}/${credentials.service}/aws4_request`;
      const key = keyFor(date);
      const bodyHash = hex(await crypto.subtle.digest("SHA-256", utf8.encode(body)));
      const canonicalRequest = `${canonicalPrefix}x-amz-date:${amzDate}\n${tokenLine}\n${signedHeaders}\n${bodyHash}`;
      const requestHash = hex(await crypto.subtle.digest("SHA-256", utf8.encode(canonicalRequest)));
      const signature = hex(await crypto.subtle.sign("HMAC", await key, utf8.encode(`${ALGORITHM}\n${amzDate}\n${scope}\n${requestHash}`)));
      const headers: Record<string, string> = {
        "content-type": contentType,
        "x-amz-date": amzDate,
        authorization: `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
      };
      if (token !== undefined) headers["x-amz-security-token"] = token;
      return new Request(url, { method: "POST", headers, body });
    },
  };
}
