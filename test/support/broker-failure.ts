// The BrokerError a promise rejects with (fails the test when it resolves, or rejects with anything else).
import { expect } from "vitest";
import { BrokerError } from "../../src/errors.ts";

export async function brokerFailure(promise: Promise<unknown>): Promise<BrokerError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(BrokerError);
  return error as BrokerError;
}
