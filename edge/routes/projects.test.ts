import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Generation, GenerationList } from "../../contracts/api.ts";
import { Project } from "../../contracts/projects.ts";
import { generations } from "../../db/schema/generations.ts";
import { MemoryResponseCache } from "../assets/memory-response-cache.ts";
import {
  createEdgeFixture,
  expectError,
  TEST_SECRETS,
  type EdgeFixture,
} from "../testing/edge-fixture.ts";
import { deliverEvent, succeededEvent } from "../testing/job-events.ts";
import {
  startRegionStandIn,
  storedObjectOf,
  type RegionStandIn,
} from "../testing/region-stand-in.ts";
import { readEvents } from "../testing/sse.ts";
import { seedAccount } from "../testing/seed.ts";

// Projects through the real app: owner, an editor and a viewer from other accounts, a stranger.

let f: EdgeFixture;
let eu: RegionStandIn;
let cache: MemoryResponseCache;
let editor: Awaited<ReturnType<typeof seedAccount>>;
let viewer: Awaited<ReturnType<typeof seedAccount>>;
let stranger: Awaited<ReturnType<typeof seedAccount>>;

beforeAll(async () => {
  eu = await startRegionStandIn({
    name: "eu-west",
    lat: 53.35,
    lon: -6.26,
    secret: TEST_SECRETS.regionSigning,
  });
  cache = new MemoryResponseCache({ maxBytes: 1 << 20 });
  f = await createEdgeFixture({ regions: [eu.config], responseCache: cache });
  editor = await seedAccount(f.db);
  viewer = await seedAccount(f.db);
  stranger = await seedAccount(f.db);
});
afterAll(async () => {
  await f?.close();
  await eu?.close();
});

async function createProject(json: Record<string, unknown>) {
  const res = await f.call("/v1/projects", { method: "POST", json });
  expect(res.status).toBe(201);
  return Project.parse(await res.json());
}

const addMember = (id: string, account: string, role: string) =>
  f.call(`/v1/projects/${id}/members`, { method: "POST", json: { account, role } });

describe("/v1/projects", () => {
  it("creates, reads and updates a project with its settings and budget", async () => {
    const project = await createProject({
      name: "Album art",
      moderation: { strictness: "strict" },
      monthly_budget: { amount_usd: 25, rule: "relax" },
    });
    expect(project).toMatchObject({
      name: "Album art",
      visibility: "private",
      role: "owner",
      owner: f.owner.account.id,
      moderation: { strictness: "strict" },
      monthly_budget: { amount_usd: 25, rule: "relax", spent_usd: 0, used_percent: 0 },
    });
    const patched = await f.call(`/v1/projects/${project.id}`, {
      method: "PATCH",
      json: { name: "Album covers", monthly_budget: null },
    });
    expect(await patched.json()).toMatchObject({ name: "Album covers", monthly_budget: null });
    const got = Project.parse(await (await f.call(`/v1/projects/${project.id}`)).json());
    expect(got.moderation.strictness).toBe("strict");
    await expectError(
      await f.call(`/v1/projects/${project.id}`, { method: "PATCH", json: { visibility: "open" } }),
      400,
      "invalid_request_error",
    );
  });

  it("editors generate under it, viewers read it, strangers see nothing", async () => {
    const project = await createProject({ name: "Shared" });
    expect((await addMember(project.id, editor.account.id, "editor")).status).toBe(200);
    expect((await addMember(project.id, viewer.account.id, "viewer")).status).toBe(200);
    await expectError(
      await addMember(project.id, `acct_${"0".repeat(26)}`, "viewer"),
      400,
      "invalid_request_error",
      "account_not_found",
    );

    const submit = (key: string) =>
      f.call("/v1/generations", {
        method: "POST",
        key,
        json: { prompt: "a shared harbour", project: project.id },
      });
    expect((await submit(f.owner.key)).status).toBe(202);
    const byEditor = await submit(editor.key);
    expect(byEditor.status).toBe(202);
    const editorGen = Generation.parse(await byEditor.json());
    expect(editorGen.project).toBe(project.id);
    await expectError(await submit(viewer.key), 403, "permission_error", "project_read_only");
    await expectError(
      await submit(stranger.key),
      400,
      "invalid_request_error",
      "project_not_found",
    );

    // Members list every member's work under the project; the stranger only its own (none).
    for (const who of [viewer, editor]) {
      const res = await f.call(`/v1/generations?project=${project.id}`, { key: who.key });
      expect(GenerationList.parse(await res.json()).data).toHaveLength(2);
    }
    const strangers = await f.call(`/v1/generations?project=${project.id}`, { key: stranger.key });
    expect(GenerationList.parse(await strangers.json()).data).toHaveLength(0);

    const asViewer = Project.parse(
      await (await f.call(`/v1/projects/${project.id}`, { key: viewer.key })).json(),
    );
    expect(asViewer).toMatchObject({ role: "viewer", members: [] });
    const list = await (await f.call("/v1/projects", { key: editor.key })).json();
    expect(list.data.map((p: { id: string }) => p.id)).toContain(project.id);
    await expectError(
      await f.call(`/v1/projects/${project.id}`, { key: stranger.key }),
      404,
      "not_found_error",
      "project_not_found",
    );
    // Members cannot administer it; the owner can remove them, a member can leave.
    await expectError(
      await f.call(`/v1/projects/${project.id}`, {
        method: "PATCH",
        key: editor.key,
        json: { name: "mine now" },
      }),
      403,
      "permission_error",
      "not_project_owner",
    );
    const leave = await f.call(`/v1/projects/${project.id}/members/${viewer.account.id}`, {
      method: "DELETE",
      key: viewer.key,
    });
    expect(leave.status).toBe(200);
    await expectError(
      await f.call(`/v1/projects/${project.id}`, { key: viewer.key }),
      404,
      "not_found_error",
    );
    // API.md's form: the account in the body.
    const removed = await f.call(`/v1/projects/${project.id}/members`, {
      method: "DELETE",
      json: { account: editor.account.id },
    });
    expect(removed.status).toBe(200);
    await expectError(
      await f.call(`/v1/projects/${project.id}/members`, {
        method: "DELETE",
        json: { account: editor.account.id },
      }),
      404,
      "not_found_error",
      "member_not_found",
    );
  });

  it("GET /v1/projects/:id/events: a member sees another member's work land live", async () => {
    const project = await createProject({ name: "Live" });
    await addMember(project.id, viewer.account.id, "viewer");
    await addMember(project.id, editor.account.id, "editor");
    const res = await f.call(`/v1/projects/${project.id}/events`, { key: viewer.key });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = readEvents(res.body!);
    try {
      const submitted = await f.call("/v1/generations", {
        method: "POST",
        key: editor.key,
        json: { prompt: "lands live", project: project.id },
      });
      const gen = Generation.parse(await submitted.json());
      const first = await events.next(10_000);
      expect(first?.event).toBe("generation");
      expect(JSON.parse(first!.data)).toMatchObject({ id: gen.id, project: project.id });
      // Its completion arrives on the same feed.
      const job = eu.jobs.find((j) => j.job_id.startsWith(gen.id))!;
      const bytes = new TextEncoder().encode("live pixels");
      await deliverEvent(f.app, TEST_SECRETS.regionSigning, succeededEvent(job, "eu-west", bytes));
      for (;;) {
        const next = await events.next(10_000);
        const data = JSON.parse(next!.data) as { id: string; status: string };
        if (data.id === gen.id && data.status === "succeeded") break;
      }
    } finally {
      await events.cancel();
    }
    await expectError(
      await f.call(`/v1/projects/${project.id}/events`, { key: stranger.key }),
      404,
      "not_found_error",
    );
  });

  it("GET /v1/projects/:id/events: others' outputs hidden by reports leave the feed", async () => {
    const project = await createProject({ name: "Reported" });
    await addMember(project.id, viewer.account.id, "viewer");
    await addMember(project.id, editor.account.id, "editor");
    const submit = async (prompt: string) =>
      Generation.parse(
        await (
          await f.call("/v1/generations", {
            method: "POST",
            key: editor.key,
            json: { prompt, project: project.id },
          })
        ).json(),
      );
    const hidden = await submit("reported later");
    const res = await f.call(`/v1/projects/${project.id}/events`, { key: viewer.key });
    const own = await f.call(`/v1/projects/${project.id}/events`, { key: editor.key });
    const events = readEvents(res.body!);
    const owners = readEvents(own.body!);
    try {
      await f.db
        .update(generations)
        .set({ reviewState: "pending", reviewOpenedAt: new Date() })
        .where(eq(generations.id, hidden.id));
      const next = await submit("still visible");
      // The viewer's feed goes straight to the next visible change; the owner's has both.
      expect(JSON.parse((await events.next(10_000))!.data)).toMatchObject({ id: next.id });
      expect(JSON.parse((await owners.next(10_000))!.data)).toMatchObject({
        id: hidden.id,
        review: { state: "pending" },
      });
    } finally {
      await events.cancel();
      await owners.cancel();
    }
  });

  it("making a public project private purges its outputs from the response cache and the edge store", async () => {
    const project = await createProject({ name: "Public gallery", visibility: "public" });
    const res = await f.call("/v1/generations", {
      method: "POST",
      json: { prompt: "an open sky", project: project.id },
    });
    const gen = Generation.parse(await res.json());
    const job = eu.jobs.find((j) => j.job_id.startsWith(gen.id))!;
    const bytes = new TextEncoder().encode("public pixels ".repeat(20));
    const output = storedObjectOf(bytes);
    eu.objects.set(output.key, { bytes, contentType: "image/png" });
    await deliverEvent(f.app, TEST_SECRETS.regionSigning, succeededEvent(job, "eu-west", bytes));
    const path = `/v1/assets/${output.key}`;
    expect((await f.call(path, { key: null })).status).toBe(200);
    await f.tasks.drain(5_000);
    expect(await cache.match(new Request(`http://localhost${path}`))).toBeDefined();
    expect(await f.assets.head(output.key)).not.toBeNull();

    const patched = await f.call(`/v1/projects/${project.id}`, {
      method: "PATCH",
      json: { visibility: "private" },
    });
    expect((await patched.json()).visibility).toBe("private");
    expect(await cache.match(new Request(`http://localhost${path}`))).toBeUndefined();
    expect(await f.assets.head(output.key)).toBeNull();
    await expectError(await f.call(path, { key: null }), 403, "permission_error", "asset_private");
    // The owner still gets it (refilled from the origin region).
    expect((await f.call(path)).status).toBe(200);
  });
});
