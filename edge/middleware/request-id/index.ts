export { requestId, requestIdOf, REQUEST_ID_HEADER, type RequestIdOptions } from "./request-id.ts";
