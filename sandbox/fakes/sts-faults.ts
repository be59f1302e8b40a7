// Faults the STS emulator answers on demand, before normal processing: throttling, AWS's 500 and 503, an
// AccessDenied in AWS's wording (ARNs included, so leak tests see a realistic message), and a request never answered.
// Platform-neutral (workerd and Node 24).
import { type AwsErrorShape, readQueryParams } from "./aws-query-protocol.ts";
import { DEFAULT_PRINCIPAL_ARN } from "./sts-identities.ts";

export type StsFault = "throttle" | "internal_error" | "service_unavailable" | "access_denied" | "hang";

/** The `hang` fault never outlives this, even when the request has no signal that aborts. */
const HANG_CAP_MS = 30_000;

/** Lets Node exit while a capped `hang` is pending (the sandbox, the benchmark); a no-op in workerd. */
function unrefTimer(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer && typeof timer.unref === "function")
    timer.unref();
}

/** Waits for the request's signal, then rejects with its reason: a request STS never answers. */
function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      reject(new Error(`sts emulator: hang fault released after ${HANG_CAP_MS} ms without an abort`));
    }, HANG_CAP_MS);
    unrefTimer(timer);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The error a fault answers for `request`; `callerArnOf` names the signer of an access key id. `hang` never answers:
 * it rejects when the request's signal aborts.
 */
export async function faultAnswer(
  fault: StsFault,
  request: Request,
  callerArnOf: (accessKeyId: string) => string | undefined,
): Promise<AwsErrorShape> {
  switch (fault) {
    case "throttle":
      return { status: 400, type: "Sender", code: "Throttling", message: "Rate exceeded" };
    case "internal_error":
      return {
        status: 500,
        type: "Receiver",
        code: "InternalFailure",
        message: "An internal error has occurred.",
      };
    case "service_unavailable":
      return {
        status: 503,
        type: "Receiver",
        code: "ServiceUnavailable",
        message: "Service is unable to handle request.",
      };
    case "access_denied": {
      const url = new URL(request.url);
      const { params } = await readQueryParams(request, url).catch(() => ({ params: new Map<string, string>() }));
      const keyId = /Credential=([^/,\s]+)\//.exec(request.headers.get("authorization") ?? "")?.[1];
      const callerArn = (keyId === undefined ? undefined : callerArnOf(keyId)) ?? DEFAULT_PRINCIPAL_ARN;
      const resource = params.get("RoleArn") ?? "*";
      return {
        status: 403,
        type: "Sender",
        code: "AccessDenied",
        message: `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${resource}`,
      };
    }
    case "hang":
      return await hang(request.signal);
  }
}
