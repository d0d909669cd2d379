import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { signRequest } from "../../../contracts/signing.ts";
import type { AppEnv } from "../../app-env.ts";
import { errorHandler } from "../../errors/index.ts";
import { expectError } from "../../testing/edge-fixture.ts";
import { RegionKeyring } from "../../routing/region-keyring.ts";
import { requestId } from "../request-id/index.ts";
import { regionSignature } from "./index.ts";

const SECRET = "region-secret-0123456789";
const EU = { id: "eu-west.k2", secret: SECRET };
const EU_PREVIOUS = { id: "eu-west.k1", secret: "region-secret-being-retired" };
const US = { id: "us-east.k1", secret: "us-east-secret-0123456789" };
const keyring = new RegionKeyring({
  "eu-west": { current: EU, previous: EU_PREVIOUS },
  "us-east": { current: US },
});
const now = Date.parse("2026-11-27T12:00:00Z");
const Ping = z.strictObject({ region: z.string() });

const app = new Hono<AppEnv>();
app.use(requestId());
app.post(
  "/internal/regions/:region/ping",
  regionSignature({ keys: keyring.lookup, schema: Ping, clock: () => now }),
  (c) => c.json({ ...c.var.body, signer: c.var.signer }),
);
app.onError(errorHandler(() => {}));

const PATH = "/internal/regions/eu-west/ping";

async function send(
  body: string,
  opts: {
    key?: { id: string; secret: string };
    at?: number;
    path?: string;
    headers?: Record<string, string>;
  } = {},
) {
  const signed = await signRequest(
    opts.key ?? EU,
    { method: "POST", path: opts.path ?? PATH, body },
    opts.at ?? now,
  );
  return app.request(PATH, { method: "POST", body, headers: { ...signed, ...opts.headers } });
}

describe("regionSignature", () => {
  it("accepts a signed body and validates it", async () => {
    const res = await send('{"region":"eu-west"}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      region: "eu-west",
      signer: { region: "eu-west", keyId: "eu-west.k2", signedAt: now },
    });
  });

  it("accepts the region's previous key during a rotation, and no key of another region", async () => {
    const body = '{"region":"eu-west"}';
    expect((await send(body, { key: EU_PREVIOUS })).status).toBe(200);
    // us-east's genuine key cannot speak for eu-west.
    await expectError(await send(body, { key: US }), 403, "permission_error", "key_not_for_region");
    await expectError(
      await send(body, { key: { id: "eu-west.k0", secret: SECRET } }),
      401,
      "authentication_error",
      "signature_unknown_key",
    );
  });

  it("answers 401 for unsigned, tampered, wrong-secret, other-path and stale requests", async () => {
    const body = '{"region":"eu-west"}';
    const unsigned = await app.request(PATH, { method: "POST", body });
    await expectError(unsigned, 401, "authentication_error", "signature_missing");

    const signed = await signRequest(EU, { method: "POST", path: PATH, body }, now);
    const tampered = await app.request(PATH, {
      method: "POST",
      body: '{"region":"us-east"}',
      headers: signed,
    });
    await expectError(tampered, 401, "authentication_error", "signature_mismatch");

    await expectError(
      await send(body, { key: { id: EU.id, secret: "another-secret-012345" } }),
      401,
      "authentication_error",
      "signature_mismatch",
    );
    await expectError(
      await send(body, { path: "/internal/regions/us-east/ping" }),
      401,
      "authentication_error",
      "signature_mismatch",
    );
    await expectError(
      await send(body, { at: now - 10 * 60_000 }),
      401,
      "authentication_error",
      "signature_stale",
    );
    await expectError(
      await send(body, { headers: { "x-genart-signature": "v1=zz" } }),
      401,
      "authentication_error",
      "signature_malformed",
    );
  });

  it("covers the query string, as regions sign it", async () => {
    const body = '{"region":"eu-west"}';
    const withQuery = await signRequest(
      EU,
      { method: "POST", path: `${PATH}?attempt=2`, body },
      now,
    );
    const ok = await app.request(`${PATH}?attempt=2`, { method: "POST", body, headers: withQuery });
    expect(ok.status).toBe(200);
    const pathOnly = await signRequest(EU, { method: "POST", path: PATH, body }, now);
    const res = await app.request(`${PATH}?attempt=2`, { method: "POST", body, headers: pathOnly });
    await expectError(res, 401, "authentication_error", "signature_mismatch");
  });

  it("checks the signature before the body: a signed bad body is a 400, an unsigned one a 401", async () => {
    await expectError(await send('{"region":1}'), 400, "invalid_request_error", "invalid_type");
    await expectError(
      await app.request(PATH, { method: "POST", body: "{bad" }),
      401,
      "authentication_error",
    );
  });
});
