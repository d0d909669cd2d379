export { accessLog, type AccessLogOptions } from "./access-log.ts";
