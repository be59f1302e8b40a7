// Which URLs the broker and its client will talk to: https, or plain http to a loopback host (the local sandbox;
// Workers cannot reach loopback in production). Pure; no I/O. One rule for issuers, JWKS, STS and the broker URL.

export function isLoopbackHttp(url: URL): boolean {
  return (
    url.protocol === "http:" &&
    (url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]")
  );
}

export function isHttpsOrLoopback(url: URL): boolean {
  return url.protocol === "https:" || isLoopbackHttp(url);
}

/**
 * Whether `value` is a URL fit to send a secret to: `isHttpsOrLoopback` (or https only, when `loopback` is false)
 * and no userinfo, which would end up in logs.
 */
export function isTrustedUrlString(value: string, options: { loopback: boolean }): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  const schemeOk = options.loopback ? isHttpsOrLoopback(url) : url.protocol === "https:";
  return schemeOk && url.username === "" && url.password === "";
}
