// Which webhook URLs the edge may call. In production: https only, no credentials in the URL, and
// no host that names this network (loopback, private, link-local, metadata and other special-use
// ranges, single-label and local names): the first line against SSRF. Names are checked again
// after DNS resolution where the runtime allows (node-webhook-fetch.ts). Development allows all of
// it, so tests and local stacks can use receivers on 127.0.0.1.

export type Environment = "development" | "production";

const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".lan", ".intranet"];

/** Why `url` may not be called in `environment`, or null when it may. */
export function refusedTarget(url: string, environment: Environment): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "not a valid URL";
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return "only http(s) URLs";
  if (environment === "development") return null;
  if (parsed.protocol !== "https:") return "webhook URLs must use https";
  if (parsed.username || parsed.password) return "webhook URLs must not carry credentials";
  const host = parsed.hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[")) {
    return isPublicAddress(host.slice(1, -1)) ? null : "the host is not a public address";
  }
  if (/^[\d.]+$/.test(host)) {
    return isPublicAddress(host) ? null : "the host is not a public address";
  }
  if (host === "localhost" || LOCAL_SUFFIXES.some((s) => host.endsWith(s))) {
    return "the host is a local name";
  }
  if (!host.includes(".")) return "the host must be a fully qualified domain name";
  return null;
}

/** True for a unicast address on the public internet (IPv4 dotted or IPv6 text form). */
export function isPublicAddress(address: string): boolean {
  const v4 = parseIPv4(address);
  if (v4 !== null) return isPublicIPv4(v4);
  const v6 = parseIPv6(address);
  return v6 !== null && isPublicIPv6(v6);
}

// [network, prefix length] of IPv4 ranges that are not public unicast (RFC 6890 and friends).
const IPV4_SPECIAL: [number, number][] = [
  [0x00000000, 8], // "this network"
  [0x0a000000, 8], // private
  [0x64400000, 10], // carrier-grade NAT
  [0x7f000000, 8], // loopback
  [0xa9fe0000, 16], // link-local (cloud metadata at 169.254.169.254)
  [0xac100000, 12], // private
  [0xc0000000, 24], // IETF protocol assignments
  [0xc0000200, 24], // documentation
  [0xc0586300, 24], // 6to4 relay anycast
  [0xc0a80000, 16], // private
  [0xc6120000, 15], // benchmarking
  [0xc6336400, 24], // documentation
  [0xcb007100, 24], // documentation
  [0xe0000000, 4], // multicast
  [0xf0000000, 4], // reserved, broadcast
];

function parseIPv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = value * 256 + Number(part);
  }
  return value;
}

function inRange(value: number, network: number, bits: number): boolean {
  const size = 2 ** (32 - bits);
  return value >= network && value < network + size;
}

function isPublicIPv4(value: number): boolean {
  return !IPV4_SPECIAL.some(([network, bits]) => inRange(value, network, bits));
}

/** Eight 16-bit groups, or null. Accepts `::` and a trailing dotted IPv4. */
function parseIPv6(text: string): number[] | null {
  let s = text.toLowerCase();
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  let tail: number[] = [];
  if (s.includes(".")) {
    const lastColon = s.lastIndexOf(":");
    const v4 = lastColon < 0 ? null : parseIPv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = [Math.floor(v4 / 65536), v4 % 65536];
    s = s.slice(0, lastColon + 1);
    // Drop the colon before the IPv4 part unless it is half of a "::".
    if (!s.endsWith("::")) s = s.slice(0, -1);
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parse = (h: string) => (h === "" ? [] : h.split(":"));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const groups = [...head, ...rest];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  const count = groups.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return null;
  const fill = new Array<number>(8 - count).fill(0);
  const toNum = (g: string) => parseInt(g, 16);
  return [...head.map(toNum), ...fill, ...rest.map(toNum), ...tail];
}

function isPublicIPv6(g: number[]): boolean {
  const allZeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (allZeroUpTo(8) || (allZeroUpTo(7) && g[7] === 1)) return false; // :: and ::1
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible and NAT64 (64:ff9b::/96): judge the IPv4 inside.
  if (
    (allZeroUpTo(5) && g[5] === 0xffff) ||
    allZeroUpTo(6) ||
    (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
  ) {
    return isPublicIPv4(g[6]! * 65536 + g[7]!);
  }
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return false; // unique local fc00::/7
  if ((first & 0xffc0) === 0xfe80) return false; // link-local fe80::/10
  if ((first & 0xff00) === 0xff00) return false; // multicast
  if (first === 0x2001 && g[1] === 0x0db8) return false; // documentation
  if (first === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return false; // discard-only
  if (first === 0x2002) return isPublicIPv4(g[1]! * 65536 + g[2]!); // 6to4 embeds an IPv4
  return true;
}
