import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { settleWithin } from "./settle-within.ts";

const after = <T>(ms: number, value: T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
const never = () => new Promise<never>(() => {});

/** Whether `promise` has settled by now (after pending microtasks). */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await vi.advanceTimersByTimeAsync(0);
  return settled;
}

describe("settleWithin", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("answers the value of work that fulfils before the deadline, and clears its timer", async () => {
    const outcome = settleWithin(after(10, "done"), 50);
    await vi.advanceTimersByTimeAsync(10);
    expect(await outcome).toEqual({ settled: true, value: "done" });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("answers settled: false at the deadline, not before", async () => {
    const outcome = settleWithin(never(), 50);
    await vi.advanceTimersByTimeAsync(49);
    expect(await isSettled(outcome)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toEqual({ settled: false });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects with the work's error when it fails in time, and clears its timer", async () => {
    const failing = after(10, null).then(() => Promise.reject(new Error("boom")));
    const outcome = settleWithin(failing, 50);
    const rejected = expect(outcome).rejects.toThrow("boom");
    await vi.advanceTimersByTimeAsync(10);
    await rejected;
    expect(vi.getTimerCount()).toBe(0);
  });

  it("leaves no unhandled rejection when the work fails after the deadline", async () => {
    const failing = after(100, null).then(() => Promise.reject(new Error("late")));
    const outcome = settleWithin(failing, 50);
    await vi.advanceTimersByTimeAsync(50);
    expect(await outcome).toEqual({ settled: false });
    // Vitest fails the run on an unhandled rejection.
    await vi.advanceTimersByTimeAsync(50);
  });

  it.each([0, -5, NaN])("with ms = %s still counts work already fulfilled", async (ms) => {
    expect(await settleWithin(Promise.resolve(1), ms)).toEqual({ settled: true, value: 1 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([0, -5, NaN])("with ms = %s times out at the next timer turn", async (ms) => {
    const outcome = settleWithin(never(), ms);
    await vi.advanceTimersByTimeAsync(0);
    expect(await outcome).toEqual({ settled: false });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("with ms = Infinity waits for the work and sets no timer", async () => {
    const outcome = settleWithin(after(1e9, "eventually"), Infinity);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1e9);
    expect(await outcome).toEqual({ settled: true, value: "eventually" });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("settleWithin on real timers", () => {
  it("does not fire a delay beyond the timer range early", async () => {
    let release!: (value: string) => void;
    const outcome = settleWithin(new Promise<string>((r) => (release = r)), 2 ** 40);
    // Node fires an out-of-range delay after 1 ms; clamped, it stays armed.
    await new Promise((resolve) => setTimeout(resolve, 20));
    release("kept");
    expect(await outcome).toEqual({ settled: true, value: "kept" });
  });
});
