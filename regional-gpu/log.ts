// JSON-lines logger: one object per line on stdout, bound fields (region, request_id, job_id) carried by
// child loggers so every line of a job can be found by its request id.

export type LogLevel = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(bindings: Fields): Logger;
}

const RANK: Record<LogLevel | "silent", number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 99,
};

export interface LoggerOptions {
  level?: LogLevel | "silent";
  bindings?: Fields;
  /** Where lines go; default stdout. */
  write?: (line: string) => void;
  now?: () => Date;
}

/** Errors become plain objects (JSON.stringify would drop their message and stack). */
function serialise(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const out: Fields = { name: value.name, message: value.message };
  const code = (value as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (value.stack) out.stack = value.stack;
  if (value.cause !== undefined) out.cause = serialise(value.cause);
  return out;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = RANK[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const now = opts.now ?? (() => new Date());
  const bindings = opts.bindings ?? {};

  const emit = (level: LogLevel, msg: string, fields?: Fields) => {
    if (RANK[level] < min) return;
    const record: Fields = { level, time: now().toISOString(), msg, ...bindings };
    for (const [key, value] of Object.entries(fields ?? {})) record[key] = serialise(value);
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch {
      line = JSON.stringify({
        level,
        time: record.time,
        msg,
        ...bindings,
        note: "unserialisable fields",
      });
    }
    write(`${line}\n`);
  };

  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (more) => createLogger({ ...opts, bindings: { ...bindings, ...more } }),
  };
}
