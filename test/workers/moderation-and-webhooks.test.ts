import { describe, expect, it } from "vitest";
import { WebhookSecret } from "../../contracts/webhooks.ts";
import { bearer, createGeneration, edge, errorOf, generationOf } from "./helpers.ts";

// Prompt moderation (obscenity's word list and our lists, Unicode folding) and webhook secrets
// (Web Crypto) inside workerd, through the Worker's real entry. Nothing here is dispatched: the
// region stand-ins' job counts are watched by other files running alongside.

describe("Worker entry: prompt moderation", () => {
  it("blocks an evasive prompt with 422, naming the category and the original span", async () => {
    const prompt = "a \u0440\u043erno poster, n u d e";
    const res = await createGeneration({ prompt });
    expect(res.status).toBe(422);
    const error = await errorOf(res);
    expect(error).toMatchObject({ type: "content_policy_violation", code: "prompt_blocked" });
    expect(error.categories).toEqual(["sexual"]);
    expect(error.matches?.map((m) => prompt.slice(m.start, m.end))).toEqual([
      "\u0440\u043erno",
      "n u d e",
    ]);

    const read = await edge(`/v1/generations/${error.generation}`, { headers: bearer() });
    expect(await generationOf(read)).toMatchObject({ status: "blocked", region: null });
  });
});

describe("Worker entry: webhooks", () => {
  it("gives each account its whsec_ signing secret", async () => {
    const res = await edge("/v1/webhooks/secret", { headers: bearer() });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { secret } = WebhookSecret.parse(await res.json());
    const again = WebhookSecret.parse(
      await (await edge("/v1/webhooks/secret", { headers: bearer() })).json(),
    );
    expect(again.secret).toBe(secret);
  });
});
