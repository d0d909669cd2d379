CREATE TABLE "plans" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"requests_per_minute" integer NOT NULL,
	"concurrency" integer NOT NULL,
	"monthly_spend_cap_microusd" bigint,
	"max_pixels" integer NOT NULL,
	"lanes" text[] NOT NULL,
	"max_cost_per_request_microusd" bigint,
	"price_multiplier" double precision DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "plans_requests_per_minute_check" CHECK ("plans"."requests_per_minute" > 0),
	CONSTRAINT "plans_concurrency_check" CHECK ("plans"."concurrency" > 0),
	CONSTRAINT "plans_max_pixels_check" CHECK ("plans"."max_pixels" > 0),
	CONSTRAINT "plans_lanes_check" CHECK (cardinality("plans"."lanes") > 0 and "plans"."lanes" <@ array['fast', 'standard', 'relax']::text[]),
	CONSTRAINT "plans_price_multiplier_check" CHECK ("plans"."price_multiplier" > 0)
);
--> statement-breakpoint
CREATE TABLE "accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"plan_id" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"name" text,
	"mode" text NOT NULL,
	"prefix" text NOT NULL,
	"hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp (3) with time zone,
	"revoked_at" timestamp (3) with time zone,
	CONSTRAINT "api_keys_mode_check" CHECK ("api_keys"."mode" in ('live', 'test'))
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"name" text NOT NULL,
	"visibility" text DEFAULT 'private' NOT NULL,
	"moderation_policy" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "projects_visibility_check" CHECK ("projects"."visibility" in ('private', 'public'))
);
--> statement-breakpoint
CREATE TABLE "model_versions" (
	"id" text PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL,
	"version" text NOT NULL,
	"sha256" text NOT NULL,
	"uri" text NOT NULL,
	"bytes" bigint NOT NULL,
	"pipeline" text NOT NULL,
	"status" text DEFAULT 'canary' NOT NULL,
	"traffic_share" double precision DEFAULT 0 NOT NULL,
	"gpu_ms_per_megapixel" double precision,
	"price_per_megapixel_microusd" bigint NOT NULL,
	"manifest" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_versions_status_check" CHECK ("model_versions"."status" in ('canary', 'active', 'retired')),
	CONSTRAINT "model_versions_traffic_share_check" CHECK ("model_versions"."traffic_share" >= 0 and "model_versions"."traffic_share" <= 1),
	CONSTRAINT "model_versions_sha256_check" CHECK ("model_versions"."sha256" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "model_versions_bytes_check" CHECK ("model_versions"."bytes" >= 0)
);
--> statement-breakpoint
CREATE TABLE "models" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "regions" (
	"name" text PRIMARY KEY NOT NULL,
	"endpoint" text NOT NULL,
	"lat" double precision NOT NULL,
	"lon" double precision NOT NULL,
	"gpu_price_per_hour_microusd" bigint NOT NULL,
	"status" text DEFAULT 'down' NOT NULL,
	"last_heartbeat_at" timestamp (3) with time zone,
	"heartbeat" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "regions_status_check" CHECK ("regions"."status" in ('healthy', 'degraded', 'draining', 'down')),
	CONSTRAINT "regions_lat_check" CHECK ("regions"."lat" between -90 and 90),
	CONSTRAINT "regions_lon_check" CHECK ("regions"."lon" between -180 and 180)
);
--> statement-breakpoint
CREATE TABLE "generations" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"project_id" text,
	"api_key_id" text,
	"model_version_id" text,
	"model" text NOT NULL,
	"model_version" text NOT NULL,
	"region" text,
	"prompt" text NOT NULL,
	"negative_prompt" text,
	"params" jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"routed_at" timestamp (3) with time zone,
	"started_at" timestamp (3) with time zone,
	"completed_at" timestamp (3) with time zone,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"estimated_wait_ms" integer,
	"gpu_ms" integer,
	"cost_estimated_microusd" bigint DEFAULT 0 NOT NULL,
	"cost_actual_microusd" bigint,
	"asset_key" text,
	"content_type" text,
	"bytes" integer,
	"width" integer,
	"height" integer,
	"output_sha256" text,
	"content_hash" text,
	"cached" boolean DEFAULT false NOT NULL,
	"error" jsonb,
	"moderation" jsonb,
	"idempotency_key" text,
	"request_hash" text,
	"parent_generation_id" text,
	"style" jsonb,
	"webhook" jsonb,
	"request_id" text,
	CONSTRAINT "generations_status_check" CHECK ("generations"."status" in ('queued', 'running', 'succeeded', 'failed', 'blocked', 'canceled'))
);
--> statement-breakpoint
CREATE TABLE "usage_ledger" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"generation_id" text NOT NULL,
	"kind" text NOT NULL,
	"amount_microusd" bigint NOT NULL,
	"gpu_ms" integer,
	"model_version" text,
	"region" text,
	"project_id" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_ledger_kind_check" CHECK ("usage_ledger"."kind" in ('reserve', 'settle', 'refund'))
);
--> statement-breakpoint
CREATE TABLE "feedback" (
	"id" text PRIMARY KEY NOT NULL,
	"generation_id" text NOT NULL,
	"account_id" text NOT NULL,
	"type" text NOT NULL,
	"reason" text,
	"prompt" text,
	"refined_generation_id" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "feedback_type_check" CHECK ("feedback"."type" in ('like', 'report', 'refine'))
);
--> statement-breakpoint
CREATE TABLE "moderation_events" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"project_id" text,
	"generation_id" text,
	"stage" text NOT NULL,
	"categories" text[] DEFAULT '{}'::text[] NOT NULL,
	"scores" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"matched" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"action" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "moderation_events_stage_check" CHECK ("moderation_events"."stage" in ('prompt', 'output')),
	CONSTRAINT "moderation_events_action_check" CHECK ("moderation_events"."action" in ('allow', 'flag', 'block'))
);
--> statement-breakpoint
CREATE TABLE "style_embeddings" (
	"generation_id" text PRIMARY KEY NOT NULL,
	"embedding" vector(100) NOT NULL,
	"model_version" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"generation_id" text NOT NULL,
	"event" text NOT NULL,
	"url" text NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"status_code" integer,
	"error" text,
	"next_attempt_at" timestamp (3) with time zone,
	"delivered_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_deliveries_event_check" CHECK ("webhook_deliveries"."event" in ('succeeded', 'failed', 'blocked', 'canceled'))
);
--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE restrict ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "generations" ADD CONSTRAINT "generations_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "generations" ADD CONSTRAINT "generations_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "generations" ADD CONSTRAINT "generations_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "generations" ADD CONSTRAINT "generations_model_version_id_model_versions_id_fk" FOREIGN KEY ("model_version_id") REFERENCES "public"."model_versions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "generations" ADD CONSTRAINT "generations_parent_generation_id_generations_id_fk" FOREIGN KEY ("parent_generation_id") REFERENCES "public"."generations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_ledger" ADD CONSTRAINT "usage_ledger_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_ledger" ADD CONSTRAINT "usage_ledger_generation_id_generations_id_fk" FOREIGN KEY ("generation_id") REFERENCES "public"."generations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "feedback" ADD CONSTRAINT "feedback_generation_id_generations_id_fk" FOREIGN KEY ("generation_id") REFERENCES "public"."generations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "feedback" ADD CONSTRAINT "feedback_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "feedback" ADD CONSTRAINT "feedback_refined_generation_id_generations_id_fk" FOREIGN KEY ("refined_generation_id") REFERENCES "public"."generations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "moderation_events" ADD CONSTRAINT "moderation_events_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "moderation_events" ADD CONSTRAINT "moderation_events_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "moderation_events" ADD CONSTRAINT "moderation_events_generation_id_generations_id_fk" FOREIGN KEY ("generation_id") REFERENCES "public"."generations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD CONSTRAINT "style_embeddings_generation_id_generations_id_fk" FOREIGN KEY ("generation_id") REFERENCES "public"."generations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_generation_id_generations_id_fk" FOREIGN KEY ("generation_id") REFERENCES "public"."generations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_email_idx" ON "accounts" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "accounts_plan_id_idx" ON "accounts" USING btree ("plan_id");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_idx" ON "api_keys" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "api_keys_account_id_idx" ON "api_keys" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "projects_account_id_idx" ON "projects" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_model_id_version_idx" ON "model_versions" USING btree ("model_id","version");--> statement-breakpoint
CREATE INDEX "model_versions_model_id_status_idx" ON "model_versions" USING btree ("model_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "models_name_idx" ON "models" USING btree ("name");--> statement-breakpoint
CREATE INDEX "generations_account_id_created_at_idx" ON "generations" USING btree ("account_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "generations_account_id_status_idx" ON "generations" USING btree ("account_id","status");--> statement-breakpoint
CREATE INDEX "generations_project_id_created_at_idx" ON "generations" USING btree ("project_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "generations_asset_key_idx" ON "generations" USING btree ("asset_key");--> statement-breakpoint
CREATE INDEX "generations_content_hash_idx" ON "generations" USING btree ("content_hash");--> statement-breakpoint
CREATE INDEX "generations_parent_generation_id_idx" ON "generations" USING btree ("parent_generation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "generations_account_id_idempotency_key_idx" ON "generations" USING btree ("account_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "usage_ledger_account_id_created_at_idx" ON "usage_ledger" USING btree ("account_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "usage_ledger_generation_id_kind_idx" ON "usage_ledger" USING btree ("generation_id","kind");--> statement-breakpoint
CREATE INDEX "feedback_generation_id_idx" ON "feedback" USING btree ("generation_id");--> statement-breakpoint
CREATE INDEX "feedback_account_id_idx" ON "feedback" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "feedback_type_created_at_idx" ON "feedback" USING btree ("type","created_at");--> statement-breakpoint
CREATE INDEX "moderation_events_account_id_created_at_idx" ON "moderation_events" USING btree ("account_id","created_at");--> statement-breakpoint
CREATE INDEX "moderation_events_generation_id_idx" ON "moderation_events" USING btree ("generation_id");--> statement-breakpoint
CREATE INDEX "style_embeddings_embedding_idx" ON "style_embeddings" USING hnsw ("embedding" vector_cosine_ops);--> statement-breakpoint
CREATE INDEX "style_embeddings_model_version_idx" ON "style_embeddings" USING btree ("model_version");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_generation_id_idx" ON "webhook_deliveries" USING btree ("generation_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_next_attempt_at_idx" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE "webhook_deliveries"."delivered_at" is null;