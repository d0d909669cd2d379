CREATE TABLE "region_nodes" (
	"id" text PRIMARY KEY NOT NULL,
	"region" text NOT NULL,
	"node_id" text NOT NULL,
	"last_heartbeat_at" timestamp (3) with time zone NOT NULL,
	"holds_scope" text,
	CONSTRAINT "region_nodes_holds_scope_check" CHECK ("region_nodes"."holds_scope" in ('node', 'region'))
);
--> statement-breakpoint
ALTER TABLE "regions" ADD COLUMN "redispatches" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "regions" ADD COLUMN "lease_expiries" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "job_id" text;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "lease_holder" text;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "lease_expires_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "attempts" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "region_nodes" ADD CONSTRAINT "region_nodes_region_regions_name_fk" FOREIGN KEY ("region") REFERENCES "public"."regions"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "region_nodes_region_idx" ON "region_nodes" USING btree ("region");--> statement-breakpoint
CREATE INDEX "generations_region_job_id_active_idx" ON "generations" USING btree ("region","job_id") WHERE "generations"."status" in ('queued', 'running');--> statement-breakpoint
CREATE INDEX "generations_lease_expires_at_active_idx" ON "generations" USING btree ("lease_expires_at") WHERE "generations"."merged_into_generation_id" is null and "generations"."status" in ('queued', 'running');