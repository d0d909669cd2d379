export { accessLog, accessLogEntry, type AccessLogOptions } from "./access-log.ts";
