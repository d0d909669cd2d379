CREATE TABLE "project_members" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"account_id" text NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "project_members_role_check" CHECK ("project_members"."role" in ('viewer', 'editor'))
);
--> statement-breakpoint
CREATE TABLE "budget_alerts" (
	"id" text PRIMARY KEY NOT NULL,
	"budget_id" text NOT NULL,
	"month" text NOT NULL,
	"percent" integer NOT NULL,
	"spent_microusd" bigint NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "budget_alerts_percent_check" CHECK ("budget_alerts"."percent" between 1 and 100)
);
--> statement-breakpoint
CREATE TABLE "budgets" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"project_id" text,
	"amount_microusd" bigint NOT NULL,
	"rule" text DEFAULT 'stop' NOT NULL,
	"webhook_url" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "budgets_amount_microusd_check" CHECK ("budgets"."amount_microusd" > 0),
	CONSTRAINT "budgets_rule_check" CHECK ("budgets"."rule" in ('stop', 'relax'))
);
--> statement-breakpoint
CREATE TABLE "prices" (
	"id" text PRIMARY KEY NOT NULL,
	"model_version_id" text,
	"lane" text,
	"region" text,
	"cell" text NOT NULL,
	"gpu_second_microusd" double precision,
	"megapixel_microusd" bigint DEFAULT 0 NOT NULL,
	"multiplier" double precision DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "prices_lane_check" CHECK ("prices"."lane" is null or "prices"."lane" in ('fast', 'standard', 'relax')),
	CONSTRAINT "prices_gpu_second_microusd_check" CHECK ("prices"."gpu_second_microusd" >= 0),
	CONSTRAINT "prices_megapixel_microusd_check" CHECK ("prices"."megapixel_microusd" >= 0),
	CONSTRAINT "prices_multiplier_check" CHECK ("prices"."multiplier" > 0)
);
--> statement-breakpoint
ALTER TABLE "usage_ledger" DROP CONSTRAINT "usage_ledger_kind_check";--> statement-breakpoint
ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "webhook_deliveries_event_check";--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ALTER COLUMN "generation_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "over_cost_cap" text DEFAULT 'refuse' NOT NULL;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "mode" text DEFAULT 'live' NOT NULL;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "lane_change" jsonb;--> statement-breakpoint
ALTER TABLE "usage_ledger" ADD COLUMN "saved_microusd" bigint;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "account_id" text;--> statement-breakpoint
ALTER TABLE "project_members" ADD CONSTRAINT "project_members_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_members" ADD CONSTRAINT "project_members_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "budget_alerts" ADD CONSTRAINT "budget_alerts_budget_id_budgets_id_fk" FOREIGN KEY ("budget_id") REFERENCES "public"."budgets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "budgets" ADD CONSTRAINT "budgets_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "budgets" ADD CONSTRAINT "budgets_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prices" ADD CONSTRAINT "prices_model_version_id_model_versions_id_fk" FOREIGN KEY ("model_version_id") REFERENCES "public"."model_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "project_members_project_id_account_id_idx" ON "project_members" USING btree ("project_id","account_id");--> statement-breakpoint
CREATE INDEX "project_members_account_id_idx" ON "project_members" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "budget_alerts_budget_id_month_percent_idx" ON "budget_alerts" USING btree ("budget_id","month","percent");--> statement-breakpoint
CREATE UNIQUE INDEX "budgets_account_id_idx" ON "budgets" USING btree ("account_id") WHERE "budgets"."project_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "budgets_project_id_idx" ON "budgets" USING btree ("project_id") WHERE "budgets"."project_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "prices_cell_idx" ON "prices" USING btree ("cell");--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "generations_project_id_updated_at_idx" ON "generations" USING btree ("project_id","updated_at");--> statement-breakpoint
CREATE INDEX "usage_ledger_project_id_created_at_idx" ON "usage_ledger" USING btree ("project_id","created_at");--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_over_cost_cap_check" CHECK ("plans"."over_cost_cap" in ('refuse', 'relax'));--> statement-breakpoint
ALTER TABLE "generations" ADD CONSTRAINT "generations_mode_check" CHECK ("generations"."mode" in ('live', 'test'));--> statement-breakpoint
ALTER TABLE "usage_ledger" ADD CONSTRAINT "usage_ledger_kind_check" CHECK ("usage_ledger"."kind" in ('reserve', 'settle', 'refund', 'cached'));--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_owner_check" CHECK ("webhook_deliveries"."generation_id" is not null or "webhook_deliveries"."account_id" is not null);--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_check" CHECK ("webhook_deliveries"."event" in ('succeeded', 'failed', 'blocked', 'canceled', 'usage.threshold'));