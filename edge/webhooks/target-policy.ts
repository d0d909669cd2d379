// Which webhook URLs the edge may call. In production: https only, no credentials in the URL, and
// no host that names this network (loopback, private, link-local, metadata and other special-use
// ranges, single-label and local names): the first line against SSRF. Names are checked again
// after DNS resolution where the runtime allows (node-webhook-fetch.ts). Development allows all of
// it, so tests and local stacks can use receivers on 127.0.0.1.

import ipaddr from "ipaddr.js";

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

/**
 * Ranges ipaddr.js classes as `unicast` that are not public either: site-local fec0::/10
 * (deprecated by RFC 3879, still routed inside some networks).
 */
const EXTRA_SPECIAL_V6 = [ipaddr.parseCIDR("fec0::/10")] as [ipaddr.IPv6, number][];

/** IPv6 forms that carry an IPv4 address: judged by the IPv4 inside. */
function embeddedIPv4(address: ipaddr.IPv6, range: string): ipaddr.IPv4 | null {
  const parts = address.parts;
  switch (range) {
    case "ipv4Mapped": // ::ffff:a.b.c.d
    case "rfc6052": // NAT64 64:ff9b::a.b.c.d
      return ipaddr.IPv4.parse(
        `${parts[6]! >> 8}.${parts[6]! & 255}.${parts[7]! >> 8}.${parts[7]! & 255}`,
      );
    case "6to4": // 2002:AABB:CCDD::
      return ipaddr.IPv4.parse(
        `${parts[1]! >> 8}.${parts[1]! & 255}.${parts[2]! >> 8}.${parts[2]! & 255}`,
      );
    default:
      return null;
  }
}

/**
 * True for a unicast address on the public internet (IPv4 dotted or IPv6 text form). The special
 * ranges are ipaddr.js's (RFC 6890 and its IANA registries, Teredo 2001::/32 included), plus
 * fec0::/10.
 */
export function isPublicAddress(address: string): boolean {
  const text = address.replace(/%.*$/, "");
  // Only the canonical forms: ipaddr.parse also reads "0x7f.1" and "2130706433" as IPv4.
  if (!ipaddr.IPv4.isValidFourPartDecimal(text) && !ipaddr.IPv6.isValid(text)) return false;
  const parsed = ipaddr.parse(text);
  const range = parsed.range();
  if (parsed.kind() === "ipv4") return range === "unicast";
  const v6 = parsed as ipaddr.IPv6;
  const inner = embeddedIPv4(v6, range);
  if (inner) return inner.range() === "unicast";
  if (range !== "unicast") return false;
  return ipaddr.subnetMatch(v6, { special: EXTRA_SPECIAL_V6 }, "public") === "public";
}
