import { describe, expect, it } from "vitest";
import { createLogger, type LoggerOptions } from "./log.ts";

const capture = (opts: LoggerOptions = {}) => {
  const lines: string[] = [];
  const logger = createLogger({ write: (line) => lines.push(line), ...opts });
  return {
    logger,
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    lines,
  };
};

describe("createLogger", () => {
  it("writes one JSON object per line with level, ISO time, message and fields", () => {
    const at = new Date("2026-11-27T10:00:00.000Z");
    const { logger, lines, records } = capture({ now: () => at });
    logger.info("job accepted", { job_id: "gen_1", queue_position: 3 });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith("\n")).toBe(true);
    expect(records()[0]).toEqual({
      level: "info",
      time: "2026-11-27T10:00:00.000Z",
      msg: "job accepted",
      job_id: "gen_1",
      queue_position: 3,
    });
  });

  it("drops lines below the level, and everything when silent", () => {
    const warnOnly = capture({ level: "warn" });
    warnOnly.logger.debug("d");
    warnOnly.logger.info("i");
    warnOnly.logger.warn("w");
    warnOnly.logger.error("e");
    expect(warnOnly.records().map((r) => [r.level, r.msg])).toEqual([
      ["warn", "w"],
      ["error", "e"],
    ]);
    const silent = capture({ level: "silent" });
    silent.logger.error("e");
    expect(silent.lines).toEqual([]);
  });

  it("carries bindings through nested children, so a job's lines hold the edge's request id", () => {
    const { logger, records } = capture({ bindings: { service: "regional-gpu" } });
    const job = logger
      .child({ region: "eu-west" })
      .child({ request_id: "req_abc", job_id: "gen_1" });
    job.warn("job event delivery failed; retrying", { attempt: 2 });
    expect(records()[0]).toMatchObject({
      service: "regional-gpu",
      region: "eu-west",
      request_id: "req_abc",
      job_id: "gen_1",
      attempt: 2,
    });
  });

  it("keeps an error's name, message, code, stack and cause chain under any key", () => {
    const { logger, records } = capture();
    const cause = Object.assign(new Error("ENOENT: model.onnx"), { code: "ENOENT" });
    logger.error("model load failed", { err: new Error("load failed", { cause }), other: cause });
    const record = records()[0]!;
    expect(record.err).toMatchObject({
      name: "Error",
      message: "load failed",
      cause: { name: "Error", message: "ENOENT: model.onnx", code: "ENOENT" },
    });
    expect(String((record.err as { stack: string }).stack)).toContain("load failed");
    expect(record.other).toMatchObject({ message: "ENOENT: model.onnx", code: "ENOENT" });
  });

  it("still writes a line when a field cannot be turned into JSON directly", () => {
    const { logger, records } = capture();
    const loop: Record<string, unknown> = { name: "loop" };
    loop.self = loop;
    logger.info("odd fields", { loop, big: 10n });
    expect(records()[0]).toMatchObject({ msg: "odd fields", loop: { name: "loop" } });
  });
});
