import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNeonDatabase } from "../client/neon.ts";
import { startDistanceProxy, type DistanceProxy } from "./distance-proxy.ts";
import { startWireGateway, type WireGateway } from "./wire-gateway.ts";

// The proxy charges a round trip per flight of client bytes, and the connection's handshake, to
// node-postgres over TCP and to the Neon driver over the WebSocket bridge alike.

const RTT_MS = 40;
let pglite: PGlite;
let gateway: WireGateway;
let tcp: DistanceProxy;
let ws: DistanceProxy;

beforeAll(async () => {
  pglite = await PGlite.create();
  gateway = await startWireGateway(pglite);
  const port = (url: string) => Number(new URL(url).port);
  tcp = await startDistanceProxy({
    target: { host: "127.0.0.1", port: port(gateway.postgresUrl) },
    roundTripMs: RTT_MS,
  });
  const bridge = gateway.neon.webSocketProxy.split("/")[0]!.split(":");
  ws = await startDistanceProxy({
    target: { host: bridge[0]!, port: Number(bridge[1]) },
    roundTripMs: RTT_MS,
  });
});

afterAll(async () => {
  await tcp?.close();
  await ws?.close();
  await gateway?.close();
  await pglite?.close();
});

describe("the distance proxy", () => {
  it("charges node-postgres one round trip per statement, and the handshake per connection", async () => {
    const client = new pg.Client(tcp.via(gateway.postgresUrl));
    const start = tcp.stats();
    await client.connect();
    const connected = tcp.stats();
    // The TCP handshake, then the startup message and its answer.
    expect(connected.roundTrips - start.roundTrips).toBe(2);
    expect(connected.connections - start.connections).toBe(1);

    const started = performance.now();
    const { rows } = await client.query("select $1::int + 1 as n", [41]);
    const elapsed = performance.now() - started;
    expect(rows[0].n).toBe(42);
    expect(tcp.stats().roundTrips - connected.roundTrips).toBe(1);
    expect(tcp.stats().answered - connected.answered).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(RTT_MS - 1);
    expect(elapsed).toBeLessThan(RTT_MS * 2.5);

    // BEGIN, the statement and COMMIT each wait for the one before: three flights.
    const before = tcp.stats().roundTrips;
    await client.query("begin");
    await client.query("select 1");
    await client.query("commit");
    expect(tcp.stats().roundTrips - before).toBe(3);
    await client.end();
  });

  it("counts the Neon driver's connection set-up and statements over the WebSocket", async () => {
    const neon = createNeonDatabase({
      url: gateway.neon.url,
      webSocketProxy: ws.via(gateway.neon.webSocketProxy),
    });
    const start = ws.stats();
    await neon.db.$client.query("select 1");
    const first = ws.stats();
    expect(first.connections - start.connections).toBe(1);
    // Handshake, WebSocket upgrade, startup, the statement: at least four (more without
    // Neon's own pipelining, which the local bridge does not speak).
    expect(first.roundTrips - start.roundTrips).toBeGreaterThanOrEqual(4);
    await neon.db.$client.query("select 2");
    expect(ws.stats().roundTrips - first.roundTrips).toBe(1);
    await neon.close();
  });
});
