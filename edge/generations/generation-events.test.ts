import { describe, expect, it } from "vitest";
import type { GenerationRow } from "../../db/schema/generations.ts";
import { eventOf, eventsSince, eventTypeOf, resumePoint } from "./generation-events.ts";

const T0 = new Date("2026-11-27T10:00:00.000Z");
const at = (ms: number) => new Date(T0.getTime() + ms);

// The columns the event logic reads; the rest of a row does not matter here.
const queued = {
  id: "gen_01jdq5v4w8x9y0z1a2b3c4d5e6",
  status: "queued",
  region: null,
  routedAt: null,
  startedAt: null,
  completedAt: null,
  error: null,
  assetKey: null,
  gpuMs: null,
  costActualMicrousd: null,
} satisfies Partial<GenerationRow>;
const row = (over: Partial<GenerationRow>) => ({ ...queued, ...over }) as GenerationRow;
const routed = row({ region: "eu-west", routedAt: at(5) });
const running = row({ status: "running", region: "eu-west", routedAt: at(5), startedAt: at(50) });
const succeeded = row({
  status: "succeeded",
  region: "eu-west",
  routedAt: at(5),
  startedAt: at(50),
  completedAt: at(90),
  assetKey: "abc.png",
  gpuMs: 12,
});
const types = (events: { type: string }[]) => events.map((e) => e.type);

describe("generation events", () => {
  it("names a row's state: queued, routed once a region took it, else its status", () => {
    expect(
      [queued, routed, running, succeeded].map((r) => eventTypeOf(r as GenerationRow)),
    ).toEqual(["queued", "routed", "running", "succeeded"]);
  });

  it("sends the current state first, then nothing until it changes", () => {
    expect(types(eventsSince(null, succeeded))).toEqual(["succeeded"]);
    expect(eventsSince(eventOf(routed), routed)).toEqual([]);
    // A cost or routing update is no new event.
    expect(eventsSince(eventOf(routed), row({ ...routed, costEstimatedMicrousd: 9 }))).toEqual([]);
  });

  it("rebuilds the states a poll jumped over from the row's timeline", () => {
    const events = eventsSince(eventOf(row(queued)), succeeded);
    expect(types(events)).toEqual(["routed", "running", "succeeded"]);
    expect(events[0]?.row).toMatchObject({ status: "queued", region: "eu-west", startedAt: null });
    expect(events[1]?.row).toMatchObject({
      status: "running",
      startedAt: at(50),
      completedAt: null,
      assetKey: null,
      gpuMs: null,
    });
    expect(types(eventsSince(eventOf(routed), succeeded))).toEqual(["running", "succeeded"]);
    expect(types(eventsSince(eventOf(running), succeeded))).toEqual(["succeeded"]);
  });

  it("never invents a run for a canceled job, or a route for one that failed to route", () => {
    const canceled = row({ ...routed, status: "canceled", completedAt: at(20) });
    expect(types(eventsSince(eventOf(routed), canceled))).toEqual(["canceled"]);
    const unroutable = row({ status: "failed", completedAt: at(3) });
    expect(types(eventsSince(eventOf(row(queued)), unroutable))).toEqual(["failed"]);
  });

  it("announces a failover to another region as a new routed event", () => {
    const moved = row({ region: "us-east", routedAt: at(400) });
    expect(types(eventsSince(eventOf(routed), moved))).toEqual(["routed"]);
  });

  it("resumes from a Last-Event-ID it issued, and ignores others", () => {
    const { id } = eventOf(routed);
    expect(resumePoint(id)).toEqual({ type: "routed", id });
    expect(types(eventsSince(resumePoint(id), succeeded))).toEqual(["running", "succeeded"]);
    expect(eventsSince(resumePoint(id), routed)).toEqual([]);
    for (const other of [undefined, "", "42", "routed", "bogus.eu-west.1", "routed.EU.1"]) {
      expect(resumePoint(other)).toBeNull();
    }
  });
});
