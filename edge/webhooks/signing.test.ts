import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, signWebhook, webhookHeaders } from "./signing.ts";

describe("webhook signing (Standard Webhooks v1)", () => {
  it("makes random whsec_ secrets of 32 bytes", () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), "base64")).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(a);
  });

  it("signs id.timestamp.body with HMAC-SHA256 of the secret's bytes", async () => {
    const secret = newWebhookSecret();
    const body = '{"type":"generation.succeeded"}';
    const expected = createHmac("sha256", Buffer.from(secret.slice(6), "base64"))
      .update(`whd_1.1700000000.${body}`)
      .digest("base64");
    expect(await signWebhook(secret, "whd_1", 1700000000, body)).toBe(`v1,${expected}`);
  });

  it("verifies with the standardwebhooks library, under either secret during a rotation", async () => {
    const current = newWebhookSecret();
    const previous = newWebhookSecret();
    const body = JSON.stringify({ type: "generation.failed", data: { id: "gen_1" } });
    const now = Math.floor(Date.now() / 1000);
    const headers = await webhookHeaders([current, previous], "whd_2", now, body);
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    for (const secret of [current, previous]) {
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    }
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
    expect(() =>
      new Webhook(current).verify(body.replace("failed", "succeeded"), headers),
    ).toThrow();
  });
});
