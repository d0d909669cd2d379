import { describe, expect, it } from "vitest";
import { resolveDatabaseConfig } from "./config.ts";

describe("resolveDatabaseConfig", () => {
  it("maps pglite URLs to a data directory, or to memory when empty", () => {
    expect(resolveDatabaseConfig("pglite://.data/db")).toEqual({
      kind: "pglite",
      dataDir: ".data/db",
    });
    expect(resolveDatabaseConfig("pglite:///var/lib/genart")).toEqual({
      kind: "pglite",
      dataDir: "/var/lib/genart",
    });
    expect(resolveDatabaseConfig("pglite://")).toEqual({ kind: "pglite" });
    expect(resolveDatabaseConfig("memory://")).toEqual({ kind: "pglite" });
  });

  it("maps postgres:// and postgresql:// to node-postgres", () => {
    for (const url of ["postgres://u:p@db:5432/app", "postgresql://u:p@db/app?sslmode=require"]) {
      expect(resolveDatabaseConfig({ url })).toEqual({ kind: "postgres", url });
    }
  });

  it("maps the neon+ hint to the Neon driver with a plain postgres URL", () => {
    expect(resolveDatabaseConfig("neon+postgresql://u:p@ep-x.neon.tech/app")).toEqual({
      kind: "neon",
      url: "postgresql://u:p@ep-x.neon.tech/app",
    });
  });

  it("passes explicit configs through after validating them", () => {
    expect(resolveDatabaseConfig({ kind: "pglite" })).toEqual({ kind: "pglite" });
    expect(
      resolveDatabaseConfig({ kind: "postgres", url: "postgres://h/db", maxConnections: 4 }),
    ).toEqual({ kind: "postgres", url: "postgres://h/db", maxConnections: 4 });
    expect(() => resolveDatabaseConfig({ kind: "neon", url: "mysql://h/db" })).toThrow();
    expect(() =>
      resolveDatabaseConfig({ kind: "postgres", url: "postgres://h/db", maxConnections: 0 }),
    ).toThrow();
  });

  it("rejects unknown schemes without echoing credentials", () => {
    expect(() => resolveDatabaseConfig("mysql://root:hunter2@h/db")).toThrow(/mysql:/);
    expect(() => resolveDatabaseConfig("mysql://root:hunter2@h/db")).not.toThrow(/hunter2/);
    expect(() => resolveDatabaseConfig("")).toThrow();
  });
});
