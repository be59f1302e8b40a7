// What the exchange tests share: the credentials request they make and the ClientError a failed exchange throws.
import { ClientError } from "../../src/client/errors.ts";
import { ENDPOINT } from "./helpers.ts";

export const options = { endpoint: ENDPOINT, role: "deploy", durationSeconds: 3600 };

export async function failure(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error("expected a ClientError");
}
