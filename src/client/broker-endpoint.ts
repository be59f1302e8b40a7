// The broker's URL as a client may use it: https (plain http only for loopback: the sandbox), nothing a shell would
// interpret, and the route of the call appended to its base. Pure; throws ClientError("usage") on a bad URL.
import { isHttpsOrLoopback } from "../http/trusted-url.ts";
import { ClientError } from "./errors.ts";

/** The broker's routes a client calls. */
export type BrokerRoute = "/v1/credentials" | "/v1/github-token";
const ROUTES: readonly BrokerRoute[] = ["/v1/credentials", "/v1/github-token"];

/** https or loopback http (the local sandbox); the credentials route appended unless already there. */
export function credentialsEndpoint(brokerUrl: string): URL {
  return brokerEndpoint(brokerUrl, "/v1/credentials");
}

/**
 * https or loopback http (the local sandbox); `route` appended to the base URL (one ending in either route counts as
 * the base).
 */
export function brokerEndpoint(brokerUrl: string, route: BrokerRoute): URL {
  if (!URL.canParse(brokerUrl))
    throw new ClientError("usage", `broker-url is not a URL: ${JSON.stringify(brokerUrl.slice(0, 200))}.`);
  const url = new URL(brokerUrl);
  if (!isHttpsOrLoopback(url)) {
    throw new ClientError(
      "usage",
      "broker-url must use https (plain http only for a loopback address: the local sandbox).",
    );
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw new ClientError("usage", "broker-url must not carry credentials, a query or a fragment.");
  }
  // The URL is written into the credential_process line: nothing a shell or shlex would interpret may survive.
  if (/[$`'"\\()\s;&|<>*!{}]/.test(url.href)) {
    throw new ClientError("usage", "broker-url must not contain shell or quoting characters.");
  }
  const base = ROUTES.reduce(
    (path, known) => (path.endsWith(known) ? path.slice(0, -known.length) : path),
    url.pathname,
  );
  url.pathname = `${base.replace(/\/+$/, "")}${route}`;
  return url;
}
