import type { StackFile } from "../local-stack/stack-file.ts";
import { AdminError } from "./admin-error.ts";
import { runAdminCommand, type AdminCommand } from "./commands.ts";

/** Hands the command to the running local stack, which owns the PGlite folder. */
export async function runAgainstStack(
  stack: StackFile,
  command: AdminCommand,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${stack.admin_url}/admin/commands`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.admin_token}`, "content-type": "application/json" },
    body: JSON.stringify(command),
  });
  const body = (await res.json()) as Record<string, unknown> & {
    error?: { code: string; message: string };
  };
  if (!res.ok)
    throw new AdminError(
      body.error?.code ?? "admin_failed",
      body.error?.message ?? `HTTP ${res.status}`,
    );
  return body;
}

/** Opens the database itself: DATABASE_URL, or the stopped local stack's PGlite folder. */
export async function runAgainstDatabase(
  command: AdminCommand,
  opts: { dataDir: string; databaseUrl: string | undefined },
): Promise<Record<string, unknown>> {
  const { createDatabase } = await import("../../db/client/index.ts");
  const { migrateDatabase } = await import("../../db/migrate.ts");
  const { seedPlans } = await import("../../db/queries/accounts.ts");
  let pepper = process.env.API_KEY_PEPPER;
  if (!opts.databaseUrl) {
    const { loadOrCreateSecrets } = await import("../local-stack/secrets.ts");
    pepper = (await loadOrCreateSecrets(opts.dataDir)).apiKeyPepper;
  }
  const handle = await createDatabase(
    opts.databaseUrl ?? { kind: "pglite", dataDir: `${opts.dataDir}/db` },
  );
  try {
    if (!opts.databaseUrl) {
      await migrateDatabase(handle);
      await seedPlans(handle.db);
      await (await import("../../db/queries/prices.ts")).seedPrices(handle.db);
    }
    return await runAdminCommand(handle.db, command, pepper);
  } finally {
    await handle.close();
  }
}
