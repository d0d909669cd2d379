import { describe, expect, it } from "vitest";
import { BackgroundTasks } from "./background-tasks.ts";

const after = (ms: number, fail = false) =>
  new Promise((resolve, reject) =>
    setTimeout(() => (fail ? reject(new Error("x")) : resolve(ms)), ms),
  );

describe("BackgroundTasks", () => {
  it("tracks work until it settles, failures included", async () => {
    const tasks = new BackgroundTasks();
    tasks.add(after(20));
    tasks.add(after(30, true));
    expect(tasks.size).toBe(2);
    expect(await tasks.drain(1_000)).toBe(true);
    expect(tasks.size).toBe(0);
  });

  it("gives up after the timeout", async () => {
    const tasks = new BackgroundTasks();
    tasks.add(after(500));
    expect(await tasks.drain(20)).toBe(false);
    expect(tasks.size).toBe(1);
  });
});
