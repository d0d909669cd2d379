export { API_CSP, HSTS, securityHeaders, type SecurityHeadersOptions } from "./security-headers.ts";
