import type { IncomingMessage, ServerResponse } from "node:http";
import type { PGlite, Results } from "@electric-sql/pglite";
import type { PgliteWireSession } from "./wire-session.ts";

// Neon's SQL-over-HTTP endpoint (`POST /sql`, what `neon()` of @neondatabase/serverless calls) in
// front of the local PGlite: one statement, or a batch run as one transaction, per request. Values
// travel as Postgres text both ways (`Neon-Raw-Text-Output`, `Neon-Array-Mode`): the driver encodes
// parameters and parses results itself, so PGlite's own (de)serialisers are bypassed.

interface QueryBody {
  query: string;
  params?: unknown[];
}

type Identity = Record<number, (value: string) => string>;
const asText = new WeakMap<PGlite, Promise<Identity>>();

/**
 * Every type's value as Postgres sent it, and every parameter as the driver encoded it: PGlite
 * merges its (de)serialisers with these, so each type it knows is listed.
 */
function textOnly(pglite: PGlite): Promise<Identity> {
  let identity = asText.get(pglite);
  if (!identity) {
    identity = pglite
      .query<{ oid: number }>("select oid::int as oid from pg_type")
      .then(({ rows }) => Object.fromEntries(rows.map(({ oid }) => [oid, (v: string) => v])));
    asText.set(pglite, identity);
  }
  return identity;
}

/** Serves one HTTP request on the shared session (taking its turn with the wire clients). */
export async function serveSqlOverHttp(
  pglite: PGlite,
  session: PgliteWireSession,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "POST" || !req.url?.startsWith("/sql")) {
    res.writeHead(404).end();
    return;
  }
  let body: QueryBody | { queries: QueryBody[] };
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ message: "malformed JSON body" }));
    return;
  }
  const turn = {};
  if (!(await session.acquire(turn))) {
    res.writeHead(503).end();
    return;
  }
  try {
    const answer =
      "queries" in body
        ? { results: await batch(pglite, body.queries) }
        : resultOf(await run(pglite, body));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(answer));
  } catch (error) {
    // What Neon answers for a database error: 400 with the server's fields.
    const e = error as Record<string, unknown>;
    res.writeHead(400, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        message: String(e.message ?? error),
        code: e.code,
        severity: e.severity,
        detail: e.detail,
        hint: e.hint,
        position: e.position,
        constraint: e.constraint,
        table: e.table,
        column: e.column,
        schema: e.schema,
      }),
    );
  } finally {
    session.release(turn);
  }
}

/** A batch is one transaction: every statement, or none of them. */
async function batch(pglite: PGlite, queries: QueryBody[]) {
  await pglite.exec("BEGIN");
  try {
    const results = [];
    for (const q of queries) results.push(resultOf(await run(pglite, q)));
    await pglite.exec("COMMIT");
    return results;
  } catch (error) {
    await pglite.exec("ROLLBACK");
    throw error;
  }
}

async function run(pglite: PGlite, { query, params }: QueryBody): Promise<Results<unknown[]>> {
  const identity = await textOnly(pglite);
  return pglite.query<unknown[]>(query, params ?? [], {
    rowMode: "array",
    parsers: identity,
    // The driver sent every parameter as text already.
    serializers: identity as Record<number, (value: unknown) => string>,
  });
}

function resultOf(result: Results<unknown[]>) {
  return {
    command: "",
    rowCount: result.affectedRows || result.rows.length,
    fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID, format: "text" })),
    rows: result.rows,
    rowAsArray: true,
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
