export { regionSignature, type RegionSignatureOptions } from "./region-signature.ts";
