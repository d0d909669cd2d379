import { z } from "zod";
import type { Database } from "../../db/client/index.ts";
import { createAccount, getAccount, getPlan } from "../../db/queries/accounts.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "../../db/queries/api-keys.ts";
import { AdminError } from "./admin-error.ts";
import { runReviewCommand } from "./reviews.ts";
import { ModelsCommand, runModelsCommand } from "./model-commands.ts";

// What `npm run admin` can do. The same functions run against the database directly, or inside a
// running local stack (which owns its PGlite folder) through scripts/local-stack/admin-server.ts.

export const AdminCommand = z.discriminatedUnion("command", [
  z.strictObject({
    command: z.literal("create-account"),
    name: z.string().trim().min(1).max(200),
    plan: z.enum(["free", "pro", "enterprise"]).or(z.string().min(1)).default("free"),
    email: z.email().optional(),
    mode: z.enum(["live", "test"]).default("live"),
  }),
  z.strictObject({
    command: z.literal("create-key"),
    account: z.string().min(1),
    name: z.string().trim().min(1).max(100).optional(),
    mode: z.enum(["live", "test"]).default("live"),
  }),
  z.strictObject({
    command: z.literal("list-keys"),
    account: z.string().min(1),
  }),
  z.strictObject({
    command: z.literal("revoke-key"),
    account: z.string().min(1),
    key: z.string().min(1),
  }),
  z.strictObject({
    command: z.literal("reviews"),
    action: z.enum(["list", "approve", "remove"]),
    /** approve / remove: the generation id. */
    generation: z.string().min(1).optional(),
    reviewer: z.string().trim().min(1).max(100).default("admin"),
    note: z.string().max(1000).optional(),
    /** remove: how long to wait for the running edge's sweep to delete the bytes (seconds). */
    wait: z.number().min(0).max(300).default(0),
  }),
  ModelsCommand,
]);
export type AdminCommand = z.input<typeof AdminCommand>;

/** Runs one command; the result is plain JSON. A created key appears here once and nowhere else. */
export async function runAdminCommand(
  db: Database,
  input: AdminCommand,
  pepper?: string,
): Promise<Record<string, unknown>> {
  const cmd = AdminCommand.parse(input);
  switch (cmd.command) {
    case "create-account": {
      if (!(await getPlan(db, cmd.plan))) {
        throw new AdminError("plan_not_found", `no plan "${cmd.plan}" (free, pro, enterprise)`);
      }
      const account = await createAccount(db, {
        name: cmd.name,
        planId: cmd.plan,
        email: cmd.email,
      });
      const { key, record } = await createApiKey(
        db,
        { accountId: account.id, mode: cmd.mode },
        pepper,
      );
      return {
        account: { id: account.id, name: account.name, plan: account.planId },
        key,
        key_id: record.id,
      };
    }
    case "create-key": {
      await requireAccount(db, cmd.account);
      const { key, record } = await createApiKey(
        db,
        { accountId: cmd.account, mode: cmd.mode, name: cmd.name },
        pepper,
      );
      return { key, key_id: record.id, prefix: record.prefix };
    }
    case "list-keys": {
      await requireAccount(db, cmd.account);
      const keys = await listApiKeys(db, cmd.account);
      return {
        keys: keys.map((k) => ({
          id: k.id,
          prefix: k.prefix,
          name: k.name,
          created_at: k.createdAt.toISOString(),
          revoked_at: k.revokedAt?.toISOString() ?? null,
        })),
      };
    }
    case "reviews":
      return runReviewCommand(db, cmd);
    case "models":
      return runModelsCommand(db, cmd, (code, message) => new AdminError(code, message));
    case "revoke-key": {
      const key = await revokeApiKey(db, cmd.account, cmd.key);
      if (!key)
        throw new AdminError("key_not_found", `no key ${cmd.key} on account ${cmd.account}`);
      return { key_id: key.id, revoked_at: key.revokedAt?.toISOString() ?? null };
    }
  }
}

async function requireAccount(db: Database, id: string): Promise<void> {
  if (!(await getAccount(db, id))) throw new AdminError("account_not_found", `no account ${id}`);
}
