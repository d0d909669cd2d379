import { createHmac } from "node:crypto";
import type { RegionKeyMap, RegionKeySet } from "../../contracts/region-keys.ts";
import type { SigningKey } from "../../contracts/signing.ts";

// Tests' region keys: what contracts/region-keys.ts deriveRegionKeySet makes of a development
// secret, computed synchronously (node:crypto) so fixtures can build them inline.

export function testRegionKeySet(devSecret: string, region: string): RegionKeySet {
  const secret = createHmac("sha256", devSecret)
    .update(`genart region signing key v1\u0000${region}`)
    .digest("hex");
  return { current: { id: `${region}.dev`, secret } };
}

export const testRegionKey = (devSecret: string, region: string): SigningKey =>
  testRegionKeySet(devSecret, region).current;

export function testRegionKeys(devSecret: string, regions: readonly string[]): RegionKeyMap {
  return Object.fromEntries(regions.map((r) => [r, testRegionKeySet(devSecret, r)]));
}
