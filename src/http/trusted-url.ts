// Which URLs the broker and its client will talk to: https, or plain http to a loopback host (the local sandbox;
// Workers cannot reach loopback in production). Pure; no I/O. One rule for issuers, JWKS, STS and the broker URL.

export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]");
}

export function isHttpsOrLoopback(url: URL): boolean {
  return url.protocol === "https:" || isLoopbackHttp(url);
}
