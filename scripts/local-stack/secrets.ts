import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";

// Secrets of the local stack, made once per data folder and kept there (mode 600), so keys, signed
// asset URLs and region signatures stay valid across restarts.

export const LocalSecrets = z.object({
  regionSigning: z.string().min(32),
  assetUrl: z.string().min(32),
  apiKeyPepper: z.string().min(32),
});
export type LocalSecrets = z.infer<typeof LocalSecrets>;

const fresh = (): LocalSecrets => ({
  regionSigning: randomBytes(32).toString("hex"),
  assetUrl: randomBytes(32).toString("hex"),
  apiKeyPepper: randomBytes(32).toString("hex"),
});

export async function loadOrCreateSecrets(dataDir: string): Promise<LocalSecrets> {
  const path = join(dataDir, "secrets.json");
  try {
    return LocalSecrets.parse(JSON.parse(await readFile(path, "utf8")));
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
