import { connect } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createNeonDatabase } from "../client/neon.ts";
import { startWireGateway, type WireGateway } from "./wire-gateway.ts";

// Many clients, one PGlite session: each client's unit of work and transaction runs whole, whatever
// the others send meanwhile (node-postgres over TCP, the Neon driver over the WebSocket bridge).

let pglite: PGlite;
let gateway: WireGateway;
const opened: pg.Client[] = [];

async function client(url = gateway.postgresUrl): Promise<pg.Client> {
  const c = new pg.Client(url);
  c.on("error", () => {});
  opened.push(c);
  await c.connect();
  return c;
}

const count = async (c: pg.Client) =>
  (await c.query<{ n: number }>("select count(*)::int as n from notes")).rows[0]!.n;

beforeAll(async () => {
  pglite = await PGlite.create();
  await pglite.exec("create table notes (id serial primary key, body text not null)");
  gateway = await startWireGateway(pglite, { maxConnections: 64, holdTimeoutMs: 400 });
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.end().catch(() => {})));
  await pglite.exec("truncate notes");
});

afterAll(async () => {
  await gateway?.close();
  await pglite?.close();
});

describe("the wire gateway", () => {
  it("keeps each client's extended-protocol steps together, errors and transactions included", async () => {
    const neon = Array.from({ length: 6 }, () => createNeonDatabase(gateway.neon));
    const mistakes: string[] = [];
    const check = (got: unknown, want: number) => {
      if (got !== want) mistakes.push(`got ${String(got)}, want ${want}`);
    };
    try {
      await Promise.all([
        // Parameterised queries through the Neon driver, each pool several connections at once;
        // every fifth one fails in Parse, which must not push anyone else into "ignore until Sync".
        ...neon.map((h, i) =>
          Promise.all(
            Array.from({ length: 3 }, async (_, k) => {
              for (let j = 0; j < 12; j++) {
                const n = i * 1000 + k * 100 + j;
                if (j % 5 === 0) {
                  await expect(
                    h.db.$client.query("select missing_column, $1::int", [n]),
                  ).rejects.toThrow(/missing_column/);
                  continue;
                }
                const r = await h.db.$client.query<{ n: number }>(
                  "select $1::int as n, pg_sleep(0.001)",
                  [n],
                );
                check(r.rows[0]?.n, n);
              }
            }),
          ),
        ),
        // Transactions over TCP at the same time.
        (async () => {
          const c = await client();
          for (let j = 0; j < 20; j++) {
            await c.query("begin");
            const r = await c.query<{ id: number }>(
              "insert into notes (body) values ($1) returning id",
              [`note ${j}`],
            );
            await c.query("commit");
            if (typeof r.rows[0]?.id !== "number") mistakes.push(`insert ${j} returned no id`);
          }
        })().catch((error: unknown) => mistakes.push(String(error))),
      ]);
    } finally {
      await Promise.all(neon.map((h) => h.close()));
    }
    expect(mistakes).toEqual([]);
    expect(await count(await client())).toBe(20);
  });

  it("keeps other clients out of an open transaction until it ends", async () => {
    const [a, b] = [await client(), await client()];
    await a.query("begin");
    await a.query("insert into notes (body) values ('uncommitted')");
    const counted = count(b);
    let settled = false;
    void counted.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(settled).toBe(false);
    await a.query("rollback");
    // B ran after the rollback, outside A's transaction.
    expect(await counted).toBe(0);
  });

  it("rolls back what a client left open when it disconnects, then serves the next", async () => {
    const [a, b] = [await client(), await client()];
    await a.query("begin");
    await a.query("insert into notes (body) values ('abandoned')");
    const counted = count(b);
    (a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect(await counted).toBe(0);
    expect(await count(b)).toBe(0);
  });

  it("disconnects a client that keeps the session idle in a transaction past the hold limit", async () => {
    const [a, b] = [await client(), await client()];
    const aError = new Promise<Error>((resolve) => a.once("error", resolve));
    await a.query("begin");
    await a.query("insert into notes (body) values ('stuck')");
    // Waits for A's turn to end: the hold limit (400 ms here), not forever.
    expect(await count(b)).toBe(0);
    expect((await aError).message).toMatch(/idle in a transaction for 400 ms/);
  });

  it("answers an encryption request with N (no TLS on loopback)", async () => {
    const port = Number(new URL(gateway.postgresUrl).port);
    const socket = connect(port, "127.0.0.1");
    const request = Buffer.alloc(8);
    request.writeInt32BE(8, 0);
    request.writeInt32BE(80_877_103, 4);
    socket.write(request);
    const [answer] = (await new Promise((resolve) => socket.once("data", (d) => resolve([d])))) as [
      Buffer,
    ];
    socket.destroy();
    expect(answer.toString("latin1")).toBe("N");
  });

  it("refuses connections past maxConnections with a Postgres error", async () => {
    const small = await startWireGateway(pglite, { maxConnections: 1 });
    try {
      const first = await client(small.postgresUrl);
      expect((await first.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
      await expect(client(small.postgresUrl)).rejects.toThrow(/too many connections/);
    } finally {
      await Promise.all(opened.splice(0).map((c) => c.end().catch(() => {})));
      await small.close();
    }
  });
});
