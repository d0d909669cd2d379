import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../client/types.ts";
import { accounts, type Account } from "../schema/accounts.ts";
import { plans, type NewPlan, type Plan } from "../schema/plans.ts";
import { DEFAULT_PLANS } from "../seed/plans.ts";

export const CreateAccountInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  planId: z.string().min(1),
  email: z.email().optional(),
});
export type CreateAccountInput = z.input<typeof CreateAccountInput>;

export async function createAccount(db: Database, input: CreateAccountInput): Promise<Account> {
  const values = CreateAccountInput.parse(input);
  const [account] = await db.insert(accounts).values(values).returning();
  if (!account) throw new Error("insert into accounts returned no row");
  return account;
}

export async function getAccount(db: Database, id: string): Promise<Account | null> {
  const [account] = await db.select().from(accounts).where(eq(accounts.id, id));
  return account ?? null;
}

export async function getPlan(db: Database, id: string): Promise<Plan | null> {
  const [plan] = await db.select().from(plans).where(eq(plans.id, id));
  return plan ?? null;
}

/** Inserts the plans that do not exist yet (by id); existing rows are left as operators set them. */
export async function seedPlans(
  db: Database,
  rows: readonly NewPlan[] = DEFAULT_PLANS,
): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db
    .insert(plans)
    .values([...rows])
    .onConflictDoNothing({ target: plans.id })
    .returning({ id: plans.id });
  return inserted.length;
}

/** Moves an account to another plan; null when the account does not exist. */
export async function setAccountPlan(
  db: Database,
  accountId: string,
  planId: string,
): Promise<Account | null> {
  const [account] = await db
    .update(accounts)
    .set({ planId })
    .where(eq(accounts.id, accountId))
    .returning();
  return account ?? null;
}
