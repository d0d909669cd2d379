export {
  regionSignature,
  type RegionKeyLookup,
  type RegionSignatureOptions,
  type RegionSigner,
} from "./region-signature.ts";
