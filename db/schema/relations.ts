import { relations } from "drizzle-orm";
import { accounts } from "./accounts.ts";
import { apiKeys } from "./api-keys.ts";
import { budgetAlerts, budgets } from "./budgets.ts";
import { feedback } from "./feedback.ts";
import { generations } from "./generations.ts";
import { moderationEvents } from "./moderation-events.ts";
import { models, modelVersions } from "./models.ts";
import { plans } from "./plans.ts";
import { prices } from "./prices.ts";
import { projectMembers } from "./project-members.ts";
import { projects } from "./projects.ts";
import { styleEmbeddings } from "./style-embeddings.ts";
import { usageLedger } from "./usage-ledger.ts";
import { webhookDeliveries } from "./webhook-deliveries.ts";

export const plansRelations = relations(plans, ({ many }) => ({ accounts: many(accounts) }));

export const accountsRelations = relations(accounts, ({ one, many }) => ({
  plan: one(plans, { fields: [accounts.planId], references: [plans.id] }),
  apiKeys: many(apiKeys),
  projects: many(projects),
  generations: many(generations),
  usage: many(usageLedger),
}));

export const apiKeysRelations = relations(apiKeys, ({ one }) => ({
  account: one(accounts, { fields: [apiKeys.accountId], references: [accounts.id] }),
}));

export const projectsRelations = relations(projects, ({ one, many }) => ({
  account: one(accounts, { fields: [projects.accountId], references: [accounts.id] }),
  generations: many(generations),
}));

export const modelsRelations = relations(models, ({ many }) => ({ versions: many(modelVersions) }));

export const modelVersionsRelations = relations(modelVersions, ({ one, many }) => ({
  model: one(models, { fields: [modelVersions.modelId], references: [models.id] }),
  generations: many(generations),
}));

export const generationsRelations = relations(generations, ({ one, many }) => ({
  account: one(accounts, { fields: [generations.accountId], references: [accounts.id] }),
  project: one(projects, { fields: [generations.projectId], references: [projects.id] }),
  apiKey: one(apiKeys, { fields: [generations.apiKeyId], references: [apiKeys.id] }),
  modelVersionRow: one(modelVersions, {
    fields: [generations.modelVersionId],
    references: [modelVersions.id],
  }),
  parent: one(generations, {
    fields: [generations.parentGenerationId],
    references: [generations.id],
    relationName: "refinements",
  }),
  refinements: many(generations, { relationName: "refinements" }),
  ledger: many(usageLedger),
  feedback: many(feedback, { relationName: "feedback" }),
  moderationEvents: many(moderationEvents),
  styleEmbedding: one(styleEmbeddings),
  webhookDeliveries: many(webhookDeliveries),
}));

export const usageLedgerRelations = relations(usageLedger, ({ one }) => ({
  account: one(accounts, { fields: [usageLedger.accountId], references: [accounts.id] }),
  generation: one(generations, {
    fields: [usageLedger.generationId],
    references: [generations.id],
  }),
}));

export const feedbackRelations = relations(feedback, ({ one }) => ({
  generation: one(generations, {
    fields: [feedback.generationId],
    references: [generations.id],
    relationName: "feedback",
  }),
  account: one(accounts, { fields: [feedback.accountId], references: [accounts.id] }),
}));

export const moderationEventsRelations = relations(moderationEvents, ({ one }) => ({
  account: one(accounts, { fields: [moderationEvents.accountId], references: [accounts.id] }),
  project: one(projects, { fields: [moderationEvents.projectId], references: [projects.id] }),
  generation: one(generations, {
    fields: [moderationEvents.generationId],
    references: [generations.id],
  }),
}));

export const styleEmbeddingsRelations = relations(styleEmbeddings, ({ one }) => ({
  generation: one(generations, {
    fields: [styleEmbeddings.generationId],
    references: [generations.id],
  }),
}));

export const webhookDeliveriesRelations = relations(webhookDeliveries, ({ one }) => ({
  generation: one(generations, {
    fields: [webhookDeliveries.generationId],
    references: [generations.id],
  }),
}));

export const projectMembersRelations = relations(projectMembers, ({ one }) => ({
  project: one(projects, { fields: [projectMembers.projectId], references: [projects.id] }),
  account: one(accounts, { fields: [projectMembers.accountId], references: [accounts.id] }),
}));

export const budgetsRelations = relations(budgets, ({ one, many }) => ({
  account: one(accounts, { fields: [budgets.accountId], references: [accounts.id] }),
  project: one(projects, { fields: [budgets.projectId], references: [projects.id] }),
  alerts: many(budgetAlerts),
}));

export const budgetAlertsRelations = relations(budgetAlerts, ({ one }) => ({
  budget: one(budgets, { fields: [budgetAlerts.budgetId], references: [budgets.id] }),
}));

export const pricesRelations = relations(prices, ({ one }) => ({
  modelVersion: one(modelVersions, {
    fields: [prices.modelVersionId],
    references: [modelVersions.id],
  }),
}));
