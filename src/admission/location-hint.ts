// Where a new admission Durable Object should live: near the STS region the broker calls, so the two round trips of
// an issuance (the object, then STS) cross the same short distance (docs/performance.md, "Latency model").
// Pure; no I/O. A hint applies only when an object is first created; an unknown region gives no hint (the runtime
// then creates the object near the first request, its default).

/** Cloudflare's Durable Object location hints (developers.cloudflare.com/durable-objects/reference/data-location/). */
export type LocationHint = "wnam" | "enam" | "sam" | "weur" | "eeur" | "apac" | "oc" | "afr" | "me";

/** AWS region prefixes (longest match wins) to the hint whose Cloudflare locations are nearest the region. */
const HINTS_BY_REGION_PREFIX: ReadonlyArray<readonly [string, LocationHint]> = [
  // North America: west of the Rockies vs the rest (us-west-1 N. California, us-west-2 Oregon, ca-west-1 Calgary).
  ["us-west-", "wnam"],
  ["us-gov-west-", "wnam"],
  ["ca-west-", "wnam"],
  ["us-east-", "enam"],
  ["us-gov-east-", "enam"],
  ["us-iso", "enam"],
  ["ca-central-", "enam"],
  ["mx-central-", "enam"],
  ["sa-", "sam"],
  // Europe: every AWS region in Europe is in the west of it (Ireland ... Frankfurt, Zurich, Milan, Spain, Stockholm).
  ["eu-", "weur"],
  ["il-", "me"],
  ["me-", "me"],
  ["af-", "afr"],
  // Oceania: Sydney, Melbourne, Auckland; the rest of ap-* is Asia.
  ["ap-southeast-2", "oc"],
  ["ap-southeast-4", "oc"],
  ["ap-southeast-6", "oc"],
  ["ap-", "apac"],
  ["cn-", "apac"],
];

/** The location hint for admission objects of a broker that calls STS in `awsRegion`; undefined when unknown. */
export function locationHintFor(awsRegion: string): LocationHint | undefined {
  let best: readonly [string, LocationHint] | undefined;
  for (const entry of HINTS_BY_REGION_PREFIX) {
    if (awsRegion.startsWith(entry[0]) && (best === undefined || entry[0].length > best[0].length)) best = entry;
  }
  return best?.[1];
}
