// The one schema: every table, its row types and its relations. Drivers, migrations and
// queries all import from here.
export * from "./plans.ts";
export * from "./accounts.ts";
export * from "./api-keys.ts";
export * from "./projects.ts";
export * from "./models.ts";
export * from "./regions.ts";
export * from "./generations.ts";
export * from "./usage-ledger.ts";
export * from "./feedback.ts";
export * from "./asset-fetches.ts";
export * from "./moderation-events.ts";
export * from "./style-embeddings.ts";
export * from "./style-index.ts";
export * from "./webhook-deliveries.ts";
export * from "./project-members.ts";
export * from "./budgets.ts";
export * from "./prices.ts";
export * from "./webhook-secrets.ts";
export * from "./relations.ts";
