// Assertions on a harness broker's answers: an error response leaks nothing internal, and the audit trail of a
// request is one log line and one Analytics Engine data point holding the same event, with no secret in either.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { ExchangeEvent } from "../../src/audit/event.ts";
import { toDataPoint } from "../../src/audit/schema.ts";
import type { DataPointLike } from "./fake-analytics.ts";

/** What expectAudit reads of a harness. */
export interface AuditedBroker {
  events(): Array<Record<string, unknown>>;
  dataPoints(): DataPointLike[];
  env: Record<string, unknown>;
}

/**
 * Asserts an error response leaks nothing internal: exactly {error, message, request_id}, and none of the
 * secrets, ARNs, account ids, claim values or library words that a careless broker would echo.
 */
export async function expectNoLeak(response: Response, forbidden: string[] = []): Promise<Record<string, unknown>> {
  const text = await response.clone().text();
  const body = JSON.parse(text) as Record<string, unknown>;
  const problems: string[] = [];
  if (Object.keys(body).sort().join(",") !== "error,message,request_id")
    problems.push(`unexpected keys ${Object.keys(body).join(",")}`);
  const needles = [
    "arn:aws",
    "111122223333",
    "000000000000",
    "acme",
    "refs/heads",
    "ERR_J",
    "JWS",
    "JWT",
    "zod",
    "issues",
    "Error:",
    "    at ",
    "<",
    "AccessDenied",
    "Throttling",
    env.AWS_ACCESS_KEY_ID,
    ...forbidden,
  ];
  for (const needle of needles)
    if (needle !== "" && text.includes(needle)) problems.push(`contains ${JSON.stringify(needle)}`);
  if (problems.length > 0) throw new Error(`error response leaks: ${problems.join("; ")}: ${text}`);
  return body;
}

/** Fields of the audit event a test may pin; any subset, matched with toMatchObject. */
export type AuditExpectation = Partial<Record<keyof ExchangeEvent, unknown>>;

/**
 * Asserts the audit trail of the latest request (or `index`): one Analytics Engine data point per credential_exchange
 * log line; the log line matches `expected`; the data point is exactly that event at its schema positions
 * (src/audit/schema.ts); and neither holds a token, a credential, a role ARN or the broker's key.
 */
export function expectAudit(
  harness: AuditedBroker,
  expected: AuditExpectation,
  options: { index?: number } = {},
): { event: Record<string, unknown>; point: DataPointLike } {
  const events = harness.events();
  const points = harness.dataPoints();
  expect(points, "one Analytics Engine data point per credential_exchange log line").toHaveLength(events.length);
  const index = options.index ?? events.length - 1;
  const event = events[index] as Record<string, unknown>;
  const point = points[index] as DataPointLike;
  expect(event, "credential_exchange log line").toMatchObject(expected);
  const { message: _message, ...fields } = event;
  expect(point, "data point of the same event").toEqual(toDataPoint(fields as unknown as ExchangeEvent));
  const text = JSON.stringify([event, point]);
  for (const needle of [
    "arn:aws",
    "eyJ",
    String(harness.env.AWS_ACCESS_KEY_ID),
    String(harness.env.AWS_SECRET_ACCESS_KEY),
  ]) {
    expect(text, `audit holds ${needle}`).not.toContain(needle);
  }
  return { event, point };
}
