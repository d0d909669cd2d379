import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";

// JSON-lines logs through pino: one object per line, bound fields (region, node_id, request_id,
// job_id) carried by child loggers, so every line of a job can be found by the edge's request id.
// Callers see only the small Logger interface below, never pino itself.

export type LogLevel = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(bindings: Fields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel | "silent";
  bindings?: Fields;
  /** Where lines go (each ends in a newline); default stdout, written synchronously. */
  write?: (line: string) => void;
  now?: () => Date;
}

/** Errors become plain objects with cause chains (JSON would drop their message and stack). */
function serialise(value: unknown, depth = 0): unknown {
  if (!(value instanceof Error)) return value;
  const out: Fields = { name: value.name, message: value.message };
  const code = (value as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (value.stack) out.stack = value.stack;
  if (value.cause !== undefined && depth < 5) out.cause = serialise(value.cause, depth + 1);
  return out;
}

function serialiseFields(fields: Fields | undefined): Fields {
  const out: Fields = {};
  for (const [key, value] of Object.entries(fields ?? {})) out[key] = serialise(value);
  return out;
}

class PinoBacked implements Logger {
  private readonly pino: PinoLogger;

  constructor(logger: PinoLogger) {
    this.pino = logger;
  }

  debug(msg: string, fields?: Fields): void {
    if (this.pino.isLevelEnabled("debug")) this.pino.debug(serialiseFields(fields), msg);
  }
  info(msg: string, fields?: Fields): void {
    if (this.pino.isLevelEnabled("info")) this.pino.info(serialiseFields(fields), msg);
  }
  warn(msg: string, fields?: Fields): void {
    if (this.pino.isLevelEnabled("warn")) this.pino.warn(serialiseFields(fields), msg);
  }
  error(msg: string, fields?: Fields): void {
    if (this.pino.isLevelEnabled("error")) this.pino.error(serialiseFields(fields), msg);
  }
  child(bindings: Fields): Logger {
    return new PinoBacked(this.pino.child(serialiseFields(bindings)));
  }
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const now = opts.now ?? (() => new Date());
  const destination: DestinationStream = opts.write
    ? { write: opts.write }
    : // Synchronous, so the last lines before process.exit are never lost.
      pino.destination({ dest: 1, sync: true });
  const logger = pino(
    {
      level: opts.level ?? "info",
      // No pid/hostname: node_id is bound by the region, and lines stay small.
      base: serialiseFields(opts.bindings),
      timestamp: () => `,"time":"${now().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      // Errors are already plain objects (serialise above); pino's own would flatten their causes.
      serializers: { err: (value: unknown) => value },
    },
    destination,
  );
  return new PinoBacked(logger);
}
