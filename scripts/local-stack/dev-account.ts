import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { Database } from "../../db/client/index.ts";
import { findApiKeyByHash, hashApiKey } from "../../db/queries/api-keys.ts";
import { runAdminCommand } from "../admin/commands.ts";

// The development account `npm start` prints a key for. Keys are stored hashed, so the plaintext of
// this one local key is kept in the data folder (mode 600) to print it again on the next start.

const DevKey = z.object({ account_id: z.string(), key: z.string() });
export type DevKey = z.infer<typeof DevKey>;

export async function ensureDevAccount(
  db: Database,
  dataDir: string,
  pepper: string,
): Promise<DevKey> {
  const path = join(dataDir, "dev-api-key.json");
  const saved = await readFile(path, "utf8").then(
    (text) => DevKey.safeParse(JSON.parse(text)).data ?? null,
    () => null,
  );
  if (saved) {
    const found = await findApiKeyByHash(db, await hashApiKey(saved.key, pepper));
    if (found && !found.apiKey.revokedAt) return saved;
  }
  const created = await runAdminCommand(
    db,
    { command: "create-account", name: "Development", plan: "pro", mode: "test" },
    pepper,
  );
  const dev = DevKey.parse({
    account_id: (created.account as { id: string }).id,
    key: created.key,
  });
  await writeFile(path, JSON.stringify(dev, null, 2), { mode: 0o600 });
  return dev;
}
