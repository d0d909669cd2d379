export { auth, optionalAuth, type AuthOptions } from "./auth.ts";
export {
  ApiKeyAuthenticator,
  type ApiKeyAuthenticatorOptions,
  type Caller,
} from "./api-key-authenticator.ts";
