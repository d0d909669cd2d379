export { corsPolicy, PUBLIC_CORS } from "./cors-policy.ts";
