// What every AWS Query-protocol fake here shares (the STS emulator, the fake IAM): AWS's errors, reading Query
// parameters, AWS's XML and its `<ErrorResponse>`. SigV4 verification is in ./aws-sigv4.ts. Platform-neutral (workerd
// and Node 24): WebCrypto and Request/Response only.
// Reference: https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html.

/** An AWS error as a fake answers it: HTTP status, Sender/Receiver, code and message. */
export interface AwsErrorShape {
  status: number;
  type: "Sender" | "Receiver";
  code: string;
  message: string;
}

/** Thrown inside a fake; its handler renders it as AWS's ErrorResponse. */
export class AwsError extends Error {
  readonly shape: AwsErrorShape;
  constructor(status: number, code: string, message: string, type: "Sender" | "Receiver" = "Sender") {
    super(`${code}: ${message}`);
    this.shape = { status, type, code, message };
  }
}

/**
 * XML-escapes element text. Every interpolated value lands in element text (never in an attribute), where
 * only & < > need escaping; quotes stay literal, as in AWS's own messages ("Value 'x' at 'roleArn' ...").
 */
export function xmlEscape(value: string): string {
  return value.replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"));
}

/** ISO 8601 at seconds precision with Z, as STS writes Expiration and IAM CreateDate. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function xmlResponse(status: number, requestId: string, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/xml", "x-amzn-requestid": requestId } });
}

/** AWS's Query-protocol error body, in the service's namespace. */
export function errorResponse(error: AwsErrorShape, namespace: string): Response {
  const requestId = crypto.randomUUID();
  return xmlResponse(
    error.status,
    requestId,
    `<ErrorResponse xmlns="${namespace}"><Error><Type>${error.type}</Type><Code>${xmlEscape(error.code)}</Code>` +
      `<Message>${xmlEscape(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

/** Query-protocol parameters: the query string, plus a form-encoded POST body (body wins). */
export async function readQueryParams(
  request: Request,
  url: URL,
): Promise<{ params: Map<string, string>; body: string }> {
  // Bytes then UTF-8: workerd warns when .text() meets a form content type.
  const body = request.method === "POST" ? new TextDecoder().decode(await request.arrayBuffer()) : "";
  const params = new Map<string, string>();
  for (const [name, value] of url.searchParams) if (!params.has(name)) params.set(name, value);
  const contentType = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (request.method === "POST" && contentType === "application/x-www-form-urlencoded") {
    const seen = new Set<string>();
    for (const [name, value] of new URLSearchParams(body)) {
      if (seen.has(name)) continue;
      seen.add(name);
      params.set(name, value);
    }
  }
  return { params, body };
}
