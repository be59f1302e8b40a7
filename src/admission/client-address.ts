// Which pre-authentication bucket a request draws from: the client address Cloudflare reports in CF-Connecting-IP.
// Pure; no I/O; no clock. Never X-Forwarded-For: clients write that header, Cloudflare writes CF-Connecting-IP.

/**
 * The bucket of requests that carry no usable CF-Connecting-IP. Cloudflare sets the header on every request it
 * forwards to a Worker, so in production this is reached only by local runs (tests, `wrangler dev` without it).
 */
export const UNKNOWN_ADDRESS_KEY = "unknown";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

/** The eight 16-bit groups of an IPv6 address (RFC 4291 §2.2 text forms, embedded IPv4 included), or undefined. */
function ipv6Groups(text: string): number[] | undefined {
  let address = text.toLowerCase();
  const zone = address.indexOf("%");
  if (zone >= 0) address = address.slice(0, zone);
  const lastColon = address.lastIndexOf(":");
  const last = address.slice(lastColon + 1);
  if (last.includes(".")) {
    // Embedded IPv4 (e.g. "::ffff:192.0.2.1"): rewrite its four bytes as the two groups they are.
    if (!IPV4.test(last)) return undefined;
    const [a, b, c, d] = last.split(".").map(Number) as [number, number, number, number];
    address = `${address.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups = part.split(":");
    if (!groups.every((group) => HEXTET.test(group))) return undefined;
    return groups.map((group) => parseInt(group, 16));
  };
  const head = parse(halves[0] ?? "");
  const rest = halves.length === 2 ? parse(halves[1] ?? "") : [];
  if (head === undefined || rest === undefined) return undefined;
  const present = head.length + rest.length;
  if (halves.length === 1) return present === 8 ? head : undefined;
  if (present > 7) return undefined; // "::" stands for at least one zero group
  return [...head, ...new Array<number>(8 - present).fill(0), ...rest];
}

/** The pre-authentication limit's keys for one request: its address bucket, and for IPv6 the enclosing /48 too. */
export interface AddressKeys {
  /** IPv4: the address. IPv6: its /64. Missing or unparsable: UNKNOWN_ADDRESS_KEY. */
  address: string;
  /** IPv6 only: the /48 that holds the /64 (undefined for IPv4 and unknown). */
  network: string | undefined;
}

const hex = (groups: number[]): string => groups.map((group) => group.toString(16)).join(":");

/**
 * The address limit's keys for a CF-Connecting-IP value. IPv4: the address. IPv6: its /64 network, because one
 * host is routinely given a whole /64 (RFC 7421) and could otherwise rotate through 2^64 buckets; and the /48 that
 * encloses it, because a routed /48 (a common end-site assignment, RFC 6177) holds 65,536 /64s, each a fresh
 * budget otherwise. IPv4-mapped IPv6 is keyed as the IPv4 address. Missing or unparsable values share
 * UNKNOWN_ADDRESS_KEY.
 */
export function addressKeys(cfConnectingIp: string | null | undefined): AddressKeys {
  const value = cfConnectingIp?.trim() ?? "";
  if (value === "") return { address: UNKNOWN_ADDRESS_KEY, network: undefined };
  if (IPV4.test(value)) return { address: `v4:${value}`, network: undefined };
  if (!value.includes(":")) return { address: UNKNOWN_ADDRESS_KEY, network: undefined };
  const groups = ipv6Groups(value);
  if (groups === undefined) return { address: UNKNOWN_ADDRESS_KEY, network: undefined };
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return { address: `v4:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`, network: undefined };
  }
  return { address: `v6:${hex(groups.slice(0, 4))}::/64`, network: `v6:${hex(groups.slice(0, 3))}::/48` };
}

/** The address bucket's key alone (see addressKeys). */
export function addressKey(cfConnectingIp: string | null | undefined): string {
  return addressKeys(cfConnectingIp).address;
}
