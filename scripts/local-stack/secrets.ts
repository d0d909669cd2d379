import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";

// Secrets of the local stack, made once per data folder and kept there (mode 600), so keys, signed
// asset URLs, region signatures and stored webhook secrets stay valid across restarts. Each
// region's signing key is derived from `regionSigning` (contracts/region-keys.ts): a region
// process is given its own key only.

export const LocalSecrets = z.object({
  regionSigning: z.string().min(32),
  assetUrl: z.string().min(32),
  apiKeyPepper: z.string().min(32),
  /** `<id>:<base64>` (edge/webhooks/secret-box.ts); added to data folders made before it. */
  webhookSecretsKey: z.string().min(32).optional(),
});
export type LocalSecrets = Required<z.infer<typeof LocalSecrets>>;

const newWebhookSecretsKey = () => `local:${randomBytes(32).toString("base64")}`;

const fresh = (): LocalSecrets => ({
  regionSigning: randomBytes(32).toString("hex"),
  assetUrl: randomBytes(32).toString("hex"),
  apiKeyPepper: randomBytes(32).toString("hex"),
  webhookSecretsKey: newWebhookSecretsKey(),
});

export async function loadOrCreateSecrets(dataDir: string): Promise<LocalSecrets> {
  const path = join(dataDir, "secrets.json");
  try {
    const saved = LocalSecrets.parse(JSON.parse(await readFile(path, "utf8")));
    if (saved.webhookSecretsKey) return { ...saved, webhookSecretsKey: saved.webhookSecretsKey };
    const completed = { ...saved, webhookSecretsKey: newWebhookSecretsKey() };
    await writeFile(path, JSON.stringify(completed, null, 2), { mode: 0o600 });
    return completed;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new Error(`${path} is unreadable or malformed; delete it to start over`, {
        cause: error,
      });
    }
  }
  const secrets = fresh();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: "wx" });
  return secrets;
}
