CREATE TABLE "asset_fetches" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"asset_key" text NOT NULL,
	"fetches" integer DEFAULT 1 NOT NULL,
	"first_fetched_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_fetched_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "asset_fetches_fetches_check" CHECK ("asset_fetches"."fetches" >= 1)
);
--> statement-breakpoint
ALTER TABLE "feedback" DROP CONSTRAINT "feedback_type_check";--> statement-breakpoint
ALTER TABLE "moderation_events" DROP CONSTRAINT "moderation_events_stage_check";--> statement-breakpoint
ALTER TABLE "feedback" DROP CONSTRAINT "feedback_refined_generation_id_generations_id_fk";
--> statement-breakpoint
DROP INDEX "feedback_generation_id_idx";--> statement-breakpoint
DROP INDEX "feedback_account_id_idx";--> statement-breakpoint
DROP INDEX "feedback_type_created_at_idx";--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "review_state" text;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "review_opened_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "review_decided_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "output_purged_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "feedback" ADD COLUMN "api_key_id" text;--> statement-breakpoint
ALTER TABLE "feedback" ADD COLUMN "kind" text NOT NULL;--> statement-breakpoint
ALTER TABLE "feedback" ADD COLUMN "comment" text;--> statement-breakpoint
ALTER TABLE "feedback" ADD COLUMN "own" boolean NOT NULL;--> statement-breakpoint
ALTER TABLE "feedback" ADD COLUMN "test_mode" boolean NOT NULL;--> statement-breakpoint
ALTER TABLE "feedback" ADD COLUMN "fetched" boolean NOT NULL;--> statement-breakpoint
ALTER TABLE "feedback" ADD COLUMN "updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "asset_fetches" ADD CONSTRAINT "asset_fetches_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "asset_fetches_account_id_asset_key_idx" ON "asset_fetches" USING btree ("account_id","asset_key");--> statement-breakpoint
CREATE INDEX "asset_fetches_asset_key_idx" ON "asset_fetches" USING btree ("asset_key");--> statement-breakpoint
ALTER TABLE "feedback" ADD CONSTRAINT "feedback_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "generations_review_pending_idx" ON "generations" USING btree ("review_opened_at") WHERE "generations"."review_state" = 'pending';--> statement-breakpoint
CREATE INDEX "generations_hidden_asset_key_idx" ON "generations" USING btree ("asset_key") WHERE "generations"."asset_key" is not null and "generations"."review_state" in ('pending', 'removed');--> statement-breakpoint
CREATE INDEX "generations_removed_unpurged_idx" ON "generations" USING btree ("review_decided_at") WHERE "generations"."review_state" = 'removed' and "generations"."output_purged_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "feedback_account_id_generation_id_idx" ON "feedback" USING btree ("account_id","generation_id");--> statement-breakpoint
CREATE INDEX "feedback_generation_id_kind_idx" ON "feedback" USING btree ("generation_id","kind");--> statement-breakpoint
CREATE INDEX "feedback_account_id_updated_at_idx" ON "feedback" USING btree ("account_id","updated_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "feedback_updated_at_idx" ON "feedback" USING btree ("updated_at");--> statement-breakpoint
ALTER TABLE "feedback" DROP COLUMN "type";--> statement-breakpoint
ALTER TABLE "feedback" DROP COLUMN "prompt";--> statement-breakpoint
ALTER TABLE "feedback" DROP COLUMN "refined_generation_id";--> statement-breakpoint
ALTER TABLE "generations" ADD CONSTRAINT "generations_review_state_check" CHECK ("generations"."review_state" is null or "generations"."review_state" in ('pending', 'approved', 'removed'));--> statement-breakpoint
ALTER TABLE "feedback" ADD CONSTRAINT "feedback_kind_check" CHECK ("feedback"."kind" in ('like', 'dislike', 'report'));--> statement-breakpoint
ALTER TABLE "feedback" ADD CONSTRAINT "feedback_reason_check" CHECK ("feedback"."reason" is null or "feedback"."reason" in ('sexual', 'violence', 'hate', 'harassment', 'self_harm', 'illegal', 'copyright', 'spam', 'off_prompt', 'low_quality', 'style', 'other'));--> statement-breakpoint
ALTER TABLE "feedback" ADD CONSTRAINT "feedback_comment_length_check" CHECK (char_length("feedback"."comment") <= 1000);--> statement-breakpoint
ALTER TABLE "moderation_events" ADD CONSTRAINT "moderation_events_stage_check" CHECK ("moderation_events"."stage" in ('prompt', 'output', 'review'));