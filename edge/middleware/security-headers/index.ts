export {
  API_CSP,
  HSTS,
  securityHeaders,
  securityHeadersOf,
  type SecurityHeadersOptions,
} from "./security-headers.ts";
