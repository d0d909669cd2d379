import { signingKeyOf, type RegionKeyMap } from "../../contracts/region-keys.ts";
import type { SigningKey } from "../../contracts/signing.ts";
import type { RegionKeyLookup } from "../middleware/region-signature/index.ts";

/** The key a call to `region` is signed with. */
export interface RegionSigningKeys {
  signingKey(region: string): SigningKey;
}

/**
 * The edge's keys of every region (REGION_SIGNING_KEYS): signs calls to a region with that
 * region's key, and tells which region a key id belongs to when a region calls back.
 */
export class RegionKeyring implements RegionSigningKeys {
  readonly #map: RegionKeyMap;
  readonly #byId = new Map<string, { region: string; secret: string }>();

  constructor(map: RegionKeyMap) {
    this.#map = map;
    for (const [region, set] of Object.entries(map)) {
      for (const key of [set.current, set.previous]) {
        if (key) this.#byId.set(key.id, { region, secret: key.secret });
      }
    }
  }

  signingKey(region: string): SigningKey {
    const set = this.#map[region];
    if (!set) throw new Error(`no signing key for region ${region} (REGION_SIGNING_KEYS)`);
    return signingKeyOf(set);
  }

  readonly lookup: RegionKeyLookup = (keyId) => this.#byId.get(keyId) ?? null;

  /** Regions of `names` this keyring has no key for. */
  missing(names: readonly string[]): string[] {
    return names.filter((n) => !this.#map[n]);
  }
}
