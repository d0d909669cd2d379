CREATE TABLE "model_rollouts" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "model_rollouts_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"model_id" text NOT NULL,
	"model_version_id" text NOT NULL,
	"action" text NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"traffic_share" double precision DEFAULT 0 NOT NULL,
	"actor" text NOT NULL,
	"reason" text NOT NULL,
	"evidence" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_rollouts_action_check" CHECK ("model_rollouts"."action" in ('register', 'canary', 'ramp', 'promote', 'rollback', 'retire', 'restore'))
);
--> statement-breakpoint
ALTER TABLE "model_versions" DROP CONSTRAINT "model_versions_status_check";--> statement-breakpoint
ALTER TABLE "model_versions" ALTER COLUMN "status" SET DEFAULT 'candidate';--> statement-breakpoint
ALTER TABLE "model_rollouts" ADD CONSTRAINT "model_rollouts_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_rollouts" ADD CONSTRAINT "model_rollouts_model_version_id_model_versions_id_fk" FOREIGN KEY ("model_version_id") REFERENCES "public"."model_versions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "model_rollouts_model_id_seq_idx" ON "model_rollouts" USING btree ("model_id","seq");--> statement-breakpoint
CREATE INDEX "model_rollouts_model_version_id_idx" ON "model_rollouts" USING btree ("model_version_id");--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_one_default_idx" ON "model_versions" USING btree ("model_id") WHERE "model_versions"."status" = 'default';--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_one_canary_idx" ON "model_versions" USING btree ("model_id") WHERE "model_versions"."status" = 'canary';--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_rollout_status_check" CHECK ("model_versions"."status" in ('candidate', 'canary', 'default', 'retired'));--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_canary_share_check" CHECK ("model_versions"."status" = 'canary' or "model_versions"."traffic_share" = 0);