import { describe, expect, it } from "vitest";
import { SecretsKeyText, WebhookSecretBox } from "./secret-box.ts";

const key = (id: string) => SecretsKeyText.parse(`${id}:${btoa(id.padEnd(32, "k"))}`);

describe("WebhookSecretBox", () => {
  it("seals with the current key and opens only for the same account", async () => {
    const box = new WebhookSecretBox({ current: key("k2") });
    const sealed = await box.seal("whsec_abc", "acct_1");
    expect(sealed.keyId).toBe("k2");
    expect(sealed.ciphertext).not.toContain("whsec_abc");
    expect(await box.open(sealed, "acct_1")).toBe("whsec_abc");
    // The account id is authenticated: a row moved to another account does not open.
    await expect(box.open(sealed, "acct_2")).rejects.toThrow();
    const flipped = { ...sealed, ciphertext: btoa("x".repeat(40)) };
    await expect(box.open(flipped, "acct_1")).rejects.toThrow();
  });

  it("opens rows of the previous key during its rotation, and names a key it lacks", async () => {
    const old = new WebhookSecretBox({ current: key("k1") });
    const sealed = await old.seal("whsec_old", "acct_1");
    const rotated = new WebhookSecretBox({ current: key("k2"), previous: key("k1") });
    expect(await rotated.open(sealed, "acct_1")).toBe("whsec_old");
    expect((await rotated.seal("whsec_new", "acct_1")).keyId).toBe("k2");
    const after = new WebhookSecretBox({ current: key("k2") });
    await expect(after.open(sealed, "acct_1")).rejects.toThrow(/k1/);
  });

  it("refuses a key that is not 32 bytes of base64 with an id", () => {
    for (const bad of ["nokeyid", `k:${btoa("short")}`, `bad id:${btoa("k".repeat(32))}`]) {
      expect(SecretsKeyText.safeParse(bad).success, bad).toBe(false);
    }
  });
});
