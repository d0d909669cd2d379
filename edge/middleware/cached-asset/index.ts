export { cachedAsset, type CachedAssetOptions } from "./cached-asset.ts";
