import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  accountWebhookSecret,
  signWebhook,
  webhookHeaders,
  webhookSigningKeyOf,
} from "./signing.ts";

describe("webhook signing (Standard Webhooks v1)", () => {
  it("derives one stable whsec_ secret of 32 bytes per account and key", async () => {
    const a = await accountWebhookSecret("edge-key-0123456789", "acct_a");
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), "base64")).toHaveLength(32);
    expect(await accountWebhookSecret("edge-key-0123456789", "acct_a")).toBe(a);
    expect(await accountWebhookSecret("edge-key-0123456789", "acct_b")).not.toBe(a);
    expect(await accountWebhookSecret("another-key-0123456", "acct_a")).not.toBe(a);
  });

  it("signs id.timestamp.body with HMAC-SHA256 of the secret's bytes", async () => {
    const secret = await accountWebhookSecret("edge-key-0123456789", "acct_a");
    const body = '{"type":"generation.succeeded"}';
    const expected = createHmac("sha256", Buffer.from(secret.slice(6), "base64"))
      .update(`whd_1.1700000000.${body}`)
      .digest("base64");
    expect(await signWebhook(secret, "whd_1", 1700000000, body)).toBe(`v1,${expected}`);
  });

  it("verifies with the standardwebhooks library, under either key during a rotation", async () => {
    const current = await accountWebhookSecret("new-key-0123456789", "acct_a");
    const previous = await accountWebhookSecret("old-key-0123456789", "acct_a");
    const body = JSON.stringify({ type: "generation.failed", data: { id: "gen_1" } });
    const now = Math.floor(Date.now() / 1000);
    const headers = await webhookHeaders([current, previous], "whd_2", now, body);
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    for (const secret of [current, previous]) {
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    }
    const stranger = await accountWebhookSecret("new-key-0123456789", "acct_b");
    expect(() => new Webhook(stranger).verify(body, headers)).toThrow();
    expect(() =>
      new Webhook(current).verify(body.replace("failed", "succeeded"), headers),
    ).toThrow();
  });

  it("uses the configured key, else one kept apart from the region secret", () => {
    expect(webhookSigningKeyOf({ regionSigning: "r", webhookSigning: "w" })).toBe("w");
    expect(webhookSigningKeyOf({ regionSigning: "r" })).not.toBe("r");
  });
});
