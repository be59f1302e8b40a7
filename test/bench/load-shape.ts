// The bench's load, shaped like a fleet of CI jobs: which repository and runner address each broker request comes from,
// and its token, pre-minted (one distinct token, a fresh jti, per request) before anything is timed.
//
// Admission control gives every repository (keyed on `repository_id`) and every client address (CF-Connecting-IP)
// a token bucket, so one repository cannot be the load: it gets its burst (60) and then ten a second. The load is
// shaped like a fleet instead: consecutive requests share a repository, at most its burst of them (a matrix build),
// and come from runner addresses in turn, each sending at most its burst over the run. No bucket ever empties, so
// every measured answer is a 200 and the broker pays its admission calls as in production, including the first
// call of a new repository's object (1 request in 60).
//
// The fleet: acme repositories publishing through the shared release workflow, which the example policy's rule
// `acme-release-publish` grants (role `publish`, the sole role, no rateLimit of its own: the default bucket). It pins
// the owner, not the repository, so every repository_id is allowed. (Rules that pin one repository, such as
// acme-app-main-deploy, allow too few requests to measure.) If the example policy changes, the preflight says so:
// adjust `fleetClaims`.
import { ADDRESS_LIMIT_PER_PERIOD, DEFAULT_REPOSITORY_BURST } from "../../src/admission/constants.ts";
import type { FakeIssuer } from "../../sandbox/fakes/fake-issuer.ts";

export const REQUESTS_PER_REPOSITORY = DEFAULT_REPOSITORY_BURST;
export const REQUESTS_PER_ADDRESS = ADDRESS_LIMIT_PER_PERIOD;
const FIRST_REPOSITORY_ID = 700_000_000;
export const SHARED_RELEASE_WORKFLOW = "acme/shared-workflows/.github/workflows/release.yml@refs/heads/main";
/**
 * The fleet rule's owner (test/fixtures/policies/index.ts `acme-release-publish`), for node_baseline; its role is
 * `publish`.
 */
export const FLEET_OWNER = "acme";

/** Claims (over the fake issuer's GitHub defaults) of the index-th broker request's token. */
function fleetClaims(index: number): Record<string, unknown> {
  return repositoryClaims(Math.floor(index / REQUESTS_PER_REPOSITORY));
}

/** Claims of a job of the n-th acme repository publishing through the shared release workflow (default bucket). */
export function repositoryClaims(n: number): Record<string, unknown> {
  const repository = `acme/service-${n}`;
  return {
    repository,
    repository_id: String(FIRST_REPOSITORY_ID + n),
    sub: `repo:${repository}:ref:refs/heads/main`,
    workflow_ref: `${repository}/.github/workflows/release.yml@refs/heads/main`,
    job_workflow_ref: SHARED_RELEASE_WORKFLOW,
  };
}

/** 10.0.0.1, 10.0.0.2, ... in turn: `addresses` private IPv4 addresses, the index-th request from one of them. */
function clientAddressFor(index: number, addresses: number): string {
  const n = (index % addresses) + 1;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/** Concurrent signings while pre-minting tokens (WebCrypto signs on libuv's thread pool). */
const MINT_BATCH = 64;

/** Pre-minted tokens, handed out in order, each with the client address its request comes from. */
export interface FleetTokens {
  /** The next unused token and its request's client address; throws when none is left. */
  take(): { token: string; address: string };
  /** A token of the run, for requests that ignore it (the ceilings'). */
  spare: string;
}

/** Mints `total` tokens, the index-th with the index-th fleet request's claims, in batches of MINT_BATCH. */
export async function mintFleetTokens(
  issuer: FakeIssuer,
  total: number,
  progress: (message: string) => void,
): Promise<FleetTokens> {
  progress(`minting ${total} tokens...`);
  const tokens: string[] = [];
  while (tokens.length < total) {
    const first = tokens.length;
    const batch = Array.from({ length: Math.min(MINT_BATCH, total - first) }, (_, i) =>
      issuer.mint(fleetClaims(first + i)),
    );
    tokens.push(...(await Promise.all(batch)));
  }
  const addresses = Math.ceil(total / REQUESTS_PER_ADDRESS);
  let nextToken = 0;
  return {
    take() {
      const index = nextToken++;
      const token = tokens[index];
      if (token === undefined) throw new Error("ran out of pre-minted tokens");
      return { token, address: clientAddressFor(index, addresses) };
    },
    spare: tokens[tokens.length - 1] as string,
  };
}
