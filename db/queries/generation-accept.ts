import { and, asc, eq, getTableColumns, is, sql, SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { newId } from "../../contracts/ids.ts";
import type { Database } from "../client/types.ts";
import { generations, type GenerationRow, type NewGenerationRow } from "../schema/generations.ts";
import { usageLedger } from "../schema/usage-ledger.ts";
import { webhookDeliveries, type NewWebhookDelivery } from "../schema/webhook-deliveries.ts";
import { preparedFor, UNNAMED } from "./prepared.ts";
import { rowSelect } from "./row-select.ts";

// The statements of a submit's critical path. Each is ONE statement (data-modifying CTEs): one
// round trip to the database, atomic without a transaction, so a submit far from its database
// waits on it once (docs/benchmarks.md, "A far database").

export type AcceptWrite =
  /** Written queued with its reservation (and whatever route the row carries). */
  | { kind: "created"; generation: GenerationRow }
  /** Nothing written: identical work already succeeded (the dedup cache answers). */
  | { kind: "cached"; source: GenerationRow }
  /** Nothing written: the account already used this Idempotency-Key (for this generation). */
  | { kind: "idempotent"; generation: GenerationRow }
  /** Nothing written: another conflict (identical work in flight, a concurrent twin); see
   * insertGenerationOnce for which. */
  | { kind: "conflict" };

/**
 * Accepts a generation in one statement: unless the dedup key (`contentHash`, when set) names a
 * generation that already succeeded, writes the row with a `reserve` ledger row of
 * `reserveMicrousd`; reads, in the same snapshot, that succeeded generation and the account's
 * earlier generation with the row's Idempotency-Key. Any unique conflict writes nothing.
 */
export async function acceptGenerationRow(
  db: Database,
  values: NewGenerationRow & { id: string },
  { reserveMicrousd }: { reserveMicrousd: number },
): Promise<AcceptWrite> {
  const row = rowSelect(generations, values);
  // Built once per row shape and database session: the 41 columns cost more to build than to run.
  const query = preparedFor(db, `generations_accept:${row.shape}`, (d) => {
    const src = alias(generations, "src");
    const source = d.$with("source").as(
      d
        .select()
        .from(src)
        .where(
          and(
            sql`${src.contentHash} = ${sql.placeholder("contentHash")}::text`,
            eq(src.status, "succeeded"),
            sql`${src.assetKey} is not null`,
          ),
        )
        .orderBy(asc(src.createdAt), asc(src.id))
        .limit(1),
    );
    const prior = alias(generations, "prior");
    const earlier = d.$with("earlier").as(
      d
        .select()
        .from(prior)
        .where(
          and(
            eq(prior.accountId, sql.placeholder("accountId")),
            sql`${prior.idempotencyKey} = ${sql.placeholder("idempotencyKey")}::text`,
          ),
        ),
    );
    const inserted = d.$with("inserted").as(
      d
        .insert(generations)
        .select(sql`${row.sql} where not exists (select 1 from ${source})`)
        .onConflictDoNothing()
        .returning(),
    );
    // Data-modifying CTEs run to completion whether or not the main query reads them. The hold is
    // tagged with no region: the settle or refund carries where the work ran.
    const reserved = d
      .$with("reserved", { id: sql<string>`id` })
      .as(
        sql`insert into ${usageLedger} (id, account_id, generation_id, kind, amount_microusd, model_version, region, project_id, created_at) select ${sql.placeholder("ledgerId")}, account_id, id, 'reserve', ${sql.placeholder("reserveMicrousd")}::bigint, model_version, null, project_id, created_at from ${inserted} returning id`,
      );
    const one = d.$with("one", { one: sql<number>`one`.as("one") }).as(sql`select 1 as one`);
    return d
      .with(one, source, earlier, inserted, reserved)
      .select()
      .from(one)
      .leftJoin(inserted, sql`true`)
      .leftJoin(source, sql`true`)
      .leftJoin(earlier, sql`true`)
      .prepare(UNNAMED);
  });
  const [result] = await query.execute({
    ...row.params,
    contentHash: values.contentHash ?? null,
    accountId: values.accountId,
    idempotencyKey: values.idempotencyKey ?? null,
    ledgerId: newId("ledger"),
    reserveMicrousd,
  });
  if (result?.inserted) return { kind: "created", generation: result.inserted };
  if (result?.source) return { kind: "cached", source: result.source };
  if (result?.earlier) return { kind: "idempotent", generation: result.earlier };
  return { kind: "conflict" };
}

/**
 * Writes a generation that is finished as it is written (an answer from the dedup cache; every
 * column given, see generationAsWritten) in one statement, with its `cached` ledger row (amount 0,
 * `savedMicrousd`) and, when it asked for one, its webhook message. Null when the row conflicts
 * with another (an Idempotency-Key): nothing is written. Returns the row and the message's id.
 */
export async function insertFinishedGeneration(
  db: Database,
  values: GenerationRow,
  {
    savedMicrousd,
    webhook,
  }: { savedMicrousd: number; webhook: (NewWebhookDelivery & { id: string }) | null },
): Promise<{ generation: GenerationRow; deliveryId: string | null } | null> {
  const row = rowSelect(generations, values);
  const query = preparedFor(
    db,
    `generations_insert_finished:${row.shape}:${webhook ? "webhook" : "-"}`,
    (d) => {
      const inserted = d
        .$with("inserted")
        .as(d.insert(generations).select(row.sql).onConflictDoNothing().returning());
      const ledger = d
        .$with("ledger", { id: sql<string>`id` })
        .as(
          sql`insert into ${usageLedger} (id, account_id, generation_id, kind, amount_microusd, saved_microusd, model_version, region, project_id, created_at) select ${sql.placeholder("ledgerId")}, account_id, id, 'cached', 0, ${sql.placeholder("savedMicrousd")}::bigint, model_version, region, project_id, created_at from ${inserted} returning id`,
        );
      const message = d
        .$with("message", { deliveryId: sql<string | null>`delivery_id`.as("delivery_id") })
        .as(
          webhook
            ? sql`insert into ${webhookDeliveries} (id, generation_id, event, url, body, next_attempt_at, created_at) select ${sql.placeholder("deliveryId")}, id, ${sql.placeholder("event")}, ${sql.placeholder("url")}, ${sql.placeholder("body")}, ${sql.placeholder("at")}::timestamptz, ${sql.placeholder("at")}::timestamptz from ${inserted} returning id as delivery_id`
            : sql`select null::text as delivery_id where false`,
        );
      return d
        .with(inserted, ledger, message)
        .select()
        .from(inserted)
        .leftJoin(message, sql`true`)
        .prepare(UNNAMED);
    },
  );
  const [result] = await query.execute({
    ...row.params,
    ledgerId: newId("ledger"),
    savedMicrousd,
    ...(webhook && {
      deliveryId: webhook.id,
      event: webhook.event,
      url: webhook.url,
      body: webhook.body,
      at: (webhook.createdAt ?? new Date()).toISOString(),
    }),
  });
  return result
    ? { generation: result.inserted, deliveryId: result.message?.deliveryId ?? null }
    : null;
}

/**
 * The row `values` becomes once written at `at`: every column the insert leaves out at its
 * default. For a statement that writes a row with things derived from it (its webhook message).
 */
export function generationAsWritten(
  values: NewGenerationRow & { id: string },
  at: Date,
): GenerationRow {
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(generations))) {
    const value = (values as Record<string, unknown>)[key];
    if (value !== undefined) row[key] = value;
    else if (column.default === undefined) row[key] = null;
    // The only SQL defaults of the table are defaultNow() timestamps.
    else if (is(column.default, SQL)) row[key] = at;
    else row[key] = structuredClone(column.default);
  }
  return row as GenerationRow;
}
