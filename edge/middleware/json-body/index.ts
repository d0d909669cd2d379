export { jsonBody, type JsonBodyEnv, type JsonBodyOptions } from "./json-body.ts";
