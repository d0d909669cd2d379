import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Heartbeat } from "../../contracts/region-protocol.ts";
import { createTestDatabase, type PgliteHandle } from "../testing.ts";
import { getRegion, listRegions, recordRegionHeartbeat, upsertRegion } from "./regions.ts";

let handle: PgliteHandle;
beforeAll(async () => {
  handle = await createTestDatabase();
});
afterAll(async () => {
  await handle?.close();
});

const euWest = {
  name: "eu-west",
  endpoint: "http://127.0.0.1:9001",
  lat: 53.3,
  lon: -6.3,
  gpuPricePerHourMicrousd: 2_500_000,
};

const heartbeat: Heartbeat = {
  region: "eu-west",
  node_id: "n1",
  at: "2026-11-27T10:00:00.000Z",
  ready: true,
  draining: false,
  queue_depth: { fast: 1, standard: 4, relax: 9 },
  in_flight: 2,
  capacity: 8,
  throughput_per_s: 3.5,
  warm_models: ["cppn-glove@2026-11-27.1"],
  failure_rate: 0,
  execution_provider: "cpu",
};

describe("regions", () => {
  it("creates, reconfigures and lists regions by name", async () => {
    const created = await upsertRegion(handle.db, euWest);
    expect(created).toMatchObject({ ...euWest, status: "down", heartbeat: null });
    await upsertRegion(handle.db, { ...euWest, name: "ap-south", lat: 19.1, lon: 72.9 });
    const moved = await upsertRegion(handle.db, { ...euWest, endpoint: "http://127.0.0.1:9009" });
    expect(moved.endpoint).toBe("http://127.0.0.1:9009");
    expect((await listRegions(handle.db)).map((r) => r.name)).toEqual(["ap-south", "eu-west"]);
  });

  it("stores the latest heartbeat and derived status, keeping them across reconfiguration", async () => {
    const at = new Date("2026-11-27T10:00:01Z");
    const updated = await recordRegionHeartbeat(handle.db, "eu-west", {
      heartbeat,
      status: "healthy",
      at,
    });
    expect(updated).toMatchObject({ status: "healthy", lastHeartbeatAt: at, heartbeat });
    await upsertRegion(handle.db, euWest);
    expect(await getRegion(handle.db, "eu-west")).toMatchObject({ status: "healthy", heartbeat });
    expect(
      await recordRegionHeartbeat(handle.db, "nowhere", { heartbeat, status: "healthy" }),
    ).toBeNull();
  });

  it("validates coordinates and names", async () => {
    await expect(upsertRegion(handle.db, { ...euWest, lat: 91 })).rejects.toThrow();
    await expect(upsertRegion(handle.db, { ...euWest, name: "EU West" })).rejects.toThrow();
  });
});
