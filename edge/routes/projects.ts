import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import {
  AddMemberRequest,
  RemoveMemberRequest,
  CreateProjectRequest,
  Project,
  ProjectList,
  ProjectMember,
  UpdateProjectRequest,
} from "../../contracts/projects.ts";
import { z } from "../../contracts/zod.ts";
import { getAccount } from "../../db/queries/accounts.ts";
import { deleteBudget, listProjectBudgets } from "../../db/queries/budgets.ts";
import {
  createProject,
  getProjectAccess,
  listProjectMembers,
  listProjectsFor,
  removeProjectMember,
  updateProject,
  upsertProjectMember,
  type ProjectPatch,
  type ProjectRoleOfCaller,
} from "../../db/queries/projects.ts";
import type { Project as ProjectRow } from "../../db/schema/projects.ts";
import type { AppEnv } from "../app-env.ts";
import type { EdgeServices } from "../deps.ts";
import { ApiError, invalidRequest, notFound } from "../errors/index.ts";
import { toGeneration } from "../generations/serialize.ts";
import { budgetReports } from "../limits/budget-report.ts";
import { SSE_HEADERS } from "../lib/sse-body.ts";
import { jsonBody } from "../middleware/json-body/index.ts";
import { keyedRoutes } from "../middleware/scope/index.ts";
import {
  errorResponses,
  headerParameter,
  idParams,
  jsonContent,
  jsonRequestBody,
  requiresScope,
} from "../openapi/responses.ts";
import { openApiRouter } from "../openapi/router.ts";
import { projectFeed } from "../projects/project-feed.ts";
import { purgeProjectAssets } from "../projects/purge-project-assets.ts";
import { serializeContext } from "./base-url.ts";
import { saveBudget } from "./budgets.ts";

const ProjectIdParams = idParams("proj_01jd9n2b3c4d5e6f7g8h9j0k1m");
const MemberParams = ProjectIdParams.extend({
  account: z.string().openapi({ param: { name: "account", in: "path" } }),
});

const tags = ["Projects"];

const createProjectRoute = createRoute({
  operationId: "createProject",
  method: "post",
  path: "/",
  summary: "Create a project",
  description:
    "Generations name a project (`project`) to be filed, moderated and budgeted under it. Outputs of public projects are open to anyone with their URL and cached at the edge.",
  tags,
  security: requiresScope("projects:admin"),
  request: { body: jsonRequestBody("CreateProjectRequest") },
  responses: {
    201: jsonContent(Project, "The project."),
    ...errorResponses(400, 401, 403, 413),
  },
});

const listProjectsRoute = createRoute({
  operationId: "listProjects",
  method: "get",
  path: "/",
  summary: "List projects",
  description: "Projects the account owns, and those it is a member of (with its role).",
  tags,
  security: requiresScope("generations:read"),
  responses: { 200: jsonContent(ProjectList, "The projects."), ...errorResponses(401, 403) },
});

const getProjectRoute = createRoute({
  operationId: "getProject",
  method: "get",
  path: "/{id}",
  summary: "Get a project",
  tags,
  security: requiresScope("generations:read"),
  request: { params: ProjectIdParams },
  responses: { 200: jsonContent(Project, "The project."), ...errorResponses(401, 403, 404) },
});

const updateProjectRoute = createRoute({
  operationId: "updateProject",
  method: "patch",
  path: "/{id}",
  summary: "Update a project",
  description:
    "Owner only (members: 403 `not_project_owner`). Making a project private purges its outputs from the edge's caches (response cache and edge store) before answering: none is served without a key or signed URL afterwards.",
  tags,
  security: requiresScope("projects:admin"),
  request: { params: ProjectIdParams, body: jsonRequestBody("UpdateProjectRequest") },
  responses: {
    200: jsonContent(Project, "The project."),
    ...errorResponses(400, 401, 403, 404, 413),
  },
});

const addMemberRoute = createRoute({
  operationId: "addProjectMember",
  method: "post",
  path: "/{id}/members",
  summary: "Add a member (or change a role)",
  description:
    "Owner only. `editor`: generates under the project (billed to its own account, counted in the project's budget) and reads it; `viewer`: reads its generations and feed.",
  tags,
  security: requiresScope("projects:admin"),
  request: { params: ProjectIdParams, body: jsonRequestBody("AddMemberRequest") },
  responses: {
    200: jsonContent(ProjectMember, "The membership."),
    ...errorResponses(400, 401, 403, 404, 413),
  },
});

const removeMemberRoute = createRoute({
  operationId: "removeProjectMember",
  method: "delete",
  path: "/{id}/members/{account}",
  summary: "Remove a member",
  description: "The owner removes anyone; a member may remove itself (leave).",
  tags,
  security: requiresScope("projects:admin"),
  request: { params: MemberParams },
  responses: {
    200: jsonContent(z.object({ deleted: z.literal(true) }), "Removed."),
    ...errorResponses(401, 403, 404),
  },
});

const removeMemberByBodyRoute = createRoute({
  operationId: "removeProjectMemberByBody",
  method: "delete",
  path: "/{id}/members",
  summary: "Remove a member (account in the body)",
  description:
    'The same as `DELETE /v1/projects/{id}/members/{account}`, with `{ "account": "acct_..." }` in the body (API.md\'s form).',
  tags,
  security: requiresScope("projects:admin"),
  request: { params: ProjectIdParams, body: jsonRequestBody("RemoveMemberRequest") },
  responses: {
    200: jsonContent(z.object({ deleted: z.literal(true) }), "Removed."),
    ...errorResponses(400, 401, 403, 404, 413),
  },
});

const projectEventsRoute = createRoute({
  operationId: "streamProjectEvents",
  method: "get",
  path: "/{id}/events",
  summary: "Follow a project's generations (server-sent events)",
  description:
    "A live feed for the project's owner and members: one `generation` event (data: the Generation) each time a generation under the project is created or changes state, from the moment of connecting; `Last-Event-ID` resumes.",
  tags,
  security: requiresScope("generations:read"),
  parameters: [headerParameter("Last-Event-ID", "Resume after this event.")],
  request: { params: ProjectIdParams },
  responses: {
    200: {
      description: "`text/event-stream`: `generation` events.",
      content: { "text/event-stream": { schema: z.string() } },
    },
    ...errorResponses(401, 403, 404),
  },
});

const projectNotFound = (id: string) => notFound(`no such project: ${id}`, "project_not_found");

/** POST/GET/PATCH /v1/projects, members, and the project feed. */
export function projectRoutes(s: EdgeServices): OpenAPIHono<AppEnv> {
  const app = openApiRouter();
  const guard = keyedRoutes(s.access);
  const body = <S extends z.ZodType>(schema: S) =>
    jsonBody({ schema, maxBytes: s.tuning.maxBodyBytes });
  app.openAPIRegistry.register("CreateProjectRequest", CreateProjectRequest);
  app.openAPIRegistry.register("UpdateProjectRequest", UpdateProjectRequest);
  app.openAPIRegistry.register("AddMemberRequest", AddMemberRequest);
  app.openAPIRegistry.register("RemoveMemberRequest", RemoveMemberRequest);

  /** The project as `accountId` sees it; 404 unless owner or member, 403 unless `owner` when asked. */
  async function access(accountId: string, id: string, need: "member" | "owner") {
    const found = await getProjectAccess(s.db, accountId, id);
    if (!found) throw projectNotFound(id);
    if (need === "owner" && found.role !== "owner") {
      throw new ApiError({
        type: "permission_error",
        code: "not_project_owner",
        message: `only the owner of ${id} can change it (this account is a ${found.role})`,
      });
    }
    return found;
  }

  async function present(entries: { project: ProjectRow; role: ProjectRoleOfCaller }[]) {
    const ids = entries.map((e) => e.project.id);
    const [members, budgets] = await Promise.all([
      listProjectMembers(s.db, ids),
      listProjectBudgets(s.db, ids),
    ]);
    const reports = await budgetReports(s.db, budgets, s.clock());
    return entries.map(({ project, role }) =>
      toProject(
        project,
        role,
        members.filter((m) => m.projectId === project.id),
        reports.find((b) => b.project === project.id) ?? null,
      ),
    );
  }

  app.openapi(
    {
      ...createProjectRoute,
      middleware: [...guard(createProjectRoute), body(CreateProjectRequest)] as const,
    },
    async (c) => {
      const request = c.var.body;
      const accountId = c.var.caller.account.id;
      const project = await createProject(s.db, {
        accountId,
        name: request.name,
        visibility: request.visibility,
        moderationPolicy: { strictness: request.moderation?.strictness ?? "standard" },
      });
      if (request.monthly_budget) {
        await saveBudget(s, accountId, project.id, request.monthly_budget);
      }
      const [shown] = await present([{ project, role: "owner" }]);
      c.header("Location", `/v1/projects/${project.id}`);
      return c.json(shown!, 201);
    },
  );

  app.openapi({ ...listProjectsRoute, middleware: guard(listProjectsRoute) }, async (c) => {
    const entries = await listProjectsFor(s.db, c.var.caller.account.id);
    return c.json({ object: "list" as const, data: await present(entries) }, 200);
  });

  app.openapi({ ...getProjectRoute, middleware: guard(getProjectRoute) }, async (c) => {
    const { id } = c.req.valid("param");
    const [shown] = await present([await access(c.var.caller.account.id, id, "member")]);
    return c.json(shown!, 200);
  });

  app.openapi(
    {
      ...updateProjectRoute,
      middleware: [...guard(updateProjectRoute), body(UpdateProjectRequest)] as const,
    },
    async (c) => {
      const { id } = c.req.valid("param");
      const request = c.var.body;
      const accountId = c.var.caller.account.id;
      const { project } = await access(accountId, id, "owner");
      const patch: ProjectPatch = {};
      if (request.name !== undefined) patch.name = request.name;
      if (request.visibility !== undefined) patch.visibility = request.visibility;
      if (request.moderation !== undefined) {
        patch.moderationPolicy = { ...project.moderationPolicy, ...request.moderation };
      }
      if (request.monthly_budget === null) {
        await deleteBudget(s.db, { accountId, projectId: id });
        s.budgets.invalidate();
      } else if (request.monthly_budget !== undefined) {
        await saveBudget(s, accountId, id, request.monthly_budget);
      }
      const updated = (await updateProject(s.db, id, patch)) ?? project;
      if (project.visibility === "public" && updated.visibility === "private") {
        const purged = await purgeProjectAssets(id, new URL(c.req.url).origin, {
          db: s.db,
          assets: s.assets,
          responseCache: s.responseCache,
        });
        s.log({ level: "info", msg: "project made private", project_id: id, purged });
      }
      const [shown] = await present([{ project: updated, role: "owner" }]);
      return c.json(shown!, 200);
    },
  );

  app.openapi(
    { ...addMemberRoute, middleware: [...guard(addMemberRoute), body(AddMemberRequest)] as const },
    async (c) => {
      const { id } = c.req.valid("param");
      const request = c.var.body;
      const { project } = await access(c.var.caller.account.id, id, "owner");
      if (request.account === project.accountId) {
        throw invalidRequest("member_is_owner", "the owner is not added as a member", "account");
      }
      if (!(await getAccount(s.db, request.account))) {
        throw invalidRequest("account_not_found", `no such account: ${request.account}`, "account");
      }
      const member = await upsertProjectMember(s.db, {
        projectId: id,
        accountId: request.account,
        role: request.role,
      });
      return c.json(toMember(member), 200);
    },
  );

  /** The owner removes anyone; a member may remove itself (leave). */
  async function removeMember(caller: string, id: string, account: string) {
    await access(caller, id, account === caller ? "member" : "owner");
    if (!(await removeProjectMember(s.db, id, account))) {
      throw notFound(`${account} is not a member of ${id}`, "member_not_found");
    }
  }

  app.openapi(
    {
      ...removeMemberByBodyRoute,
      middleware: [...guard(removeMemberByBodyRoute), body(RemoveMemberRequest)] as const,
    },
    async (c) => {
      const { id } = c.req.valid("param");
      await removeMember(c.var.caller.account.id, id, c.var.body.account);
      return c.json({ deleted: true as const }, 200);
    },
  );

  app.openapi({ ...removeMemberRoute, middleware: guard(removeMemberRoute) }, async (c) => {
    const { id, account } = c.req.valid("param");
    await removeMember(c.var.caller.account.id, id, account);
    return c.json({ deleted: true as const }, 200);
  });

  app.openapi({ ...projectEventsRoute, middleware: guard(projectEventsRoute) }, async (c) => {
    const { id } = c.req.valid("param");
    await access(c.var.caller.account.id, id, "member");
    const ctx = serializeContext(c, s);
    const feed = projectFeed(id, c.req.header("last-event-id"), {
      db: s.db,
      viewerId: c.var.caller.account.id,
      serialize: (row) => toGeneration(row, { ...ctx, now: s.clock() }),
      log: s.log,
      pollMs: s.tuning.eventsPollMs,
      keepAliveMs: s.tuning.eventsKeepAliveMs,
      maxStreamMs: s.tuning.eventsMaxStreamMs,
    });
    s.waitUntil(feed.done);
    return c.body(feed.body, 200, SSE_HEADERS);
  });

  return app;
}

const toMember = (m: { accountId: string; role: "viewer" | "editor"; createdAt: Date }) => ({
  object: "project_member" as const,
  account: m.accountId,
  role: m.role,
  created_at: m.createdAt.toISOString(),
});

function toProject(
  project: ProjectRow,
  role: ProjectRoleOfCaller,
  members: { accountId: string; role: "viewer" | "editor"; createdAt: Date }[],
  budget: z.infer<typeof Project>["monthly_budget"],
): z.infer<typeof Project> {
  const self = `/v1/projects/${project.id}`;
  const strictness = project.moderationPolicy.strictness ?? "standard";
  return {
    id: project.id,
    object: "project",
    name: project.name,
    owner: project.accountId,
    visibility: project.visibility,
    moderation: { strictness },
    role,
    monthly_budget: budget,
    // Only the owner sees who else is in it.
    members: role === "owner" ? members.map(toMember) : [],
    created_at: project.createdAt.toISOString(),
    urls: {
      self,
      events: `${self}/events`,
      generations: `/v1/generations?project=${project.id}`,
    },
  };
}
