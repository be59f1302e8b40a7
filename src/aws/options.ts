// Where the broker reaches STS and, in sigv4 mode, the key it signs with: the AWS part of the configuration
// (src/config.ts parses it from the Worker's env). Pure; no I/O.

/** Where STS is: what both modes need. */
export interface StsEndpointOptions {
  region: string;
  /** STS endpoint URL: the regional endpoint unless overridden (sandbox, tests). */
  stsEndpoint: string;
}

/** sigv4 mode: the broker's own AWS principal signs AssumeRole. */
export interface AwsOptions extends StsEndpointOptions {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
}

/** Regional STS endpoint: keeps latency low and avoids the legacy global endpoint. */
export function regionalStsEndpoint(region: string): string {
  // AWS China regions live under their own domain (AWS General Reference, "AWS STS endpoints").
  return region.startsWith("cn-") ? `https://sts.${region}.amazonaws.com.cn/` : `https://sts.${region}.amazonaws.com/`;
}
