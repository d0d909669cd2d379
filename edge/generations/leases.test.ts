import { describe, expect, it } from "vitest";
import type { GenerationAttempt } from "../../contracts/api.ts";
import {
  attemptsOf,
  DEFAULT_LEASE_TUNING,
  leaseDeadline,
  sweepAction,
  type SweepCandidate,
  type SweepContext,
} from "./leases.ts";

const T = DEFAULT_LEASE_TUNING;
const NOW = Date.parse("2026-12-07T12:00:00.000Z");
const TTL = 15_000;

const ctx = (over: Partial<SweepContext> = {}): SweepContext => ({
  now: NOW,
  heartbeatTtlMs: TTL,
  judgeSilenceFrom: 0,
  tuning: T,
  ...over,
});

const dispatched = (over: Partial<SweepCandidate["row"]> = {}): SweepCandidate["row"] => ({
  status: "queued",
  region: "eu-west",
  jobId: "gen_x",
  leaseHolder: "eu-west-1",
  leaseExpiresAt: new Date(NOW + 60_000),
  attempts: [],
  createdAt: new Date(NOW - 10_000),
  routing: { region: "eu-west", job_id: "gen_x", decided_at: "", candidates: [] },
  ...over,
});

describe("leaseDeadline", () => {
  it("trusts the region's wait twice over, the run twice over, plus a margin, within the cap", () => {
    expect(leaseDeadline(NOW, { estimatedWaitMs: 1_000, expectedRunMs: 300 }, T)).toBe(
      NOW + 2_000 + 600 + T.leaseMarginMs,
    );
    expect(leaseDeadline(NOW, { estimatedWaitMs: 1e9, expectedRunMs: 0 }, T)).toBe(
      NOW + T.leaseMaxMs,
    );
  });
});

describe("sweepAction", () => {
  it("leaves a dispatched job alone while its holder talks and its lease runs", () => {
    expect(sweepAction({ row: dispatched(), holderSeenAt: NOW - 2_000 }, ctx())).toBeNull();
  });

  it("takes a job back when its holder has been silent past the TTL (or never spoke)", () => {
    const silent = { row: dispatched(), holderSeenAt: NOW - TTL - 1 };
    expect(sweepAction(silent, ctx())).toEqual({ kind: "lose", reason: "region_down" });
    expect(sweepAction({ ...silent, holderSeenAt: null }, ctx())).toEqual({
      kind: "lose",
      reason: "region_down",
    });
  });

  it("does not judge silence before an edge that just started has had a TTL to hear heartbeats", () => {
    const silent = { row: dispatched(), holderSeenAt: NOW - 60_000 };
    expect(sweepAction(silent, ctx({ judgeSilenceFrom: NOW + 1 }))).toBeNull();
    // ... but an expired lease needs no heartbeat to be judged.
    const expired = { row: dispatched({ leaseExpiresAt: new Date(NOW - 1) }), holderSeenAt: null };
    expect(sweepAction(expired, ctx({ judgeSilenceFrom: NOW + 1 }))).toEqual({
      kind: "lose",
      reason: "lease_expired",
    });
  });

  it("takes back a job whose lease ran out (or that has none: rows from before leases)", () => {
    const talking = NOW - 1_000;
    const expired = dispatched({ leaseExpiresAt: new Date(NOW) });
    expect(sweepAction({ row: expired, holderSeenAt: talking }, ctx())).toEqual({
      kind: "lose",
      reason: "lease_expired",
    });
    const legacy = dispatched({ leaseExpiresAt: null });
    expect(sweepAction({ row: legacy, holderSeenAt: talking }, ctx())).toEqual({
      kind: "lose",
      reason: "lease_expired",
    });
  });

  it("dispatches a row no region holds once it is due, and gives up after waiting too long", () => {
    const waiting = dispatched({ region: null, jobId: null, leaseHolder: null });
    expect(sweepAction({ row: waiting, holderSeenAt: null }, ctx())).toBeNull();
    const due = { ...waiting, leaseExpiresAt: new Date(NOW - 1) };
    expect(sweepAction({ row: due, holderSeenAt: null }, ctx())).toEqual({ kind: "dispatch" });
    const lost: GenerationAttempt = {
      region: "eu-west",
      job_id: "gen_x",
      started_at: new Date(NOW - T.maxWaitForRegionMs - 60_000).toISOString(),
      ended_at: new Date(NOW - T.maxWaitForRegionMs - 1).toISOString(),
      reason: "region_down",
    };
    expect(sweepAction({ row: { ...due, attempts: [lost] }, holderSeenAt: null }, ctx())).toEqual({
      kind: "give_up",
    });
    // Never dispatched at all (the edge stopped after writing it): the same bound, from creation.
    const old = { ...due, createdAt: new Date(NOW - T.maxWaitForRegionMs - 1) };
    expect(sweepAction({ row: old, holderSeenAt: null }, ctx())).toEqual({ kind: "give_up" });
  });

  it("leaves a dispatch no region has answered yet to its dispatch lease, silence or not", () => {
    // Written with its intended route; the dispatch may be failing over from a silent region.
    const pending = dispatched({
      leaseHolder: null,
      routing: { region: null, job_id: "gen_x", decided_at: "", candidates: [] },
    });
    expect(sweepAction({ row: pending, holderSeenAt: null }, ctx())).toBeNull();
    expect(sweepAction({ row: pending, holderSeenAt: NOW - TTL - 1 }, ctx())).toBeNull();
    const overdue = { ...pending, leaseExpiresAt: new Date(NOW - 1) };
    expect(sweepAction({ row: overdue, holderSeenAt: NOW - 1_000 }, ctx())).toEqual({
      kind: "lose",
      reason: "lease_expired",
    });
  });
});

describe("attemptsOf", () => {
  const base = {
    region: "us-east",
    jobId: "gen_x.2",
    routedAt: new Date(NOW - 5_000),
    createdAt: new Date(NOW - 60_000),
    completedAt: null,
    status: "running" as const,
  };
  const first: GenerationAttempt = {
    region: "eu-west",
    job_id: "gen_x",
    started_at: new Date(NOW - 60_000).toISOString(),
    ended_at: new Date(NOW - 6_000).toISOString(),
    reason: "lease_expired",
  };

  it("shows nothing for a generation dispatched once", () => {
    expect(attemptsOf({ ...base, jobId: "gen_x", attempts: [] })).toEqual([]);
  });

  it("shows every dispatch, the current one last and open", () => {
    expect(attemptsOf({ ...base, attempts: [first] })).toEqual([
      first,
      {
        region: "us-east",
        job_id: "gen_x.2",
        started_at: base.routedAt.toISOString(),
        ended_at: null,
        reason: null,
      },
    ]);
  });

  it("does not repeat the last attempt when the generation failed with it", () => {
    const failed = { ...base, jobId: "gen_x", region: "eu-west", status: "failed" as const };
    expect(attemptsOf({ ...failed, attempts: [first] })).toEqual([first]);
  });
});
