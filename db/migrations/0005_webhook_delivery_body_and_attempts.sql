DROP INDEX "webhook_deliveries_generation_id_idx";--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "body" text NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "attempts" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_generation_id_event_idx" ON "webhook_deliveries" USING btree ("generation_id","event");