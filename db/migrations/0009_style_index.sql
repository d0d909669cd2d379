CREATE TABLE "style_index" (
	"id" text PRIMARY KEY NOT NULL,
	"shard" smallint NOT NULL,
	"account_id" text NOT NULL,
	"project_id" text,
	"model" text NOT NULL,
	"model_version" text NOT NULL,
	"visibility" text NOT NULL,
	"hidden" boolean NOT NULL,
	"generated_at" timestamp (3) with time zone NOT NULL,
	"embedding" vector(128) NOT NULL,
	CONSTRAINT "style_index_visibility_check" CHECK ("style_index"."visibility" in ('private', 'public')),
	CONSTRAINT "style_index_shard_check" CHECK ("style_index"."shard" >= 0 and "style_index"."shard" < 8)
);
--> statement-breakpoint
DROP INDEX "style_embeddings_embedding_idx";--> statement-breakpoint
DROP INDEX "style_embeddings_model_version_idx";--> statement-breakpoint
ALTER TABLE "style_embeddings" ALTER COLUMN "embedding" SET DATA TYPE vector(128);--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "derivation" jsonb;--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD COLUMN "account_id" text NOT NULL;--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD COLUMN "project_id" text;--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD COLUMN "model" text NOT NULL;--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD COLUMN "descriptor" text NOT NULL;--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD COLUMN "style_space" text;--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD COLUMN "style_vector" real[];--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD COLUMN "visibility" text DEFAULT 'private' NOT NULL;--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD COLUMN "hidden" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD COLUMN "generated_at" timestamp (3) with time zone NOT NULL;--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD COLUMN "indexed_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD COLUMN "updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "style_index_shard_0_embedding_idx" ON "style_index" USING hnsw ("embedding" vector_cosine_ops) WHERE "style_index"."shard" = 0;--> statement-breakpoint
CREATE INDEX "style_index_shard_1_embedding_idx" ON "style_index" USING hnsw ("embedding" vector_cosine_ops) WHERE "style_index"."shard" = 1;--> statement-breakpoint
CREATE INDEX "style_index_shard_2_embedding_idx" ON "style_index" USING hnsw ("embedding" vector_cosine_ops) WHERE "style_index"."shard" = 2;--> statement-breakpoint
CREATE INDEX "style_index_shard_3_embedding_idx" ON "style_index" USING hnsw ("embedding" vector_cosine_ops) WHERE "style_index"."shard" = 3;--> statement-breakpoint
CREATE INDEX "style_index_shard_4_embedding_idx" ON "style_index" USING hnsw ("embedding" vector_cosine_ops) WHERE "style_index"."shard" = 4;--> statement-breakpoint
CREATE INDEX "style_index_shard_5_embedding_idx" ON "style_index" USING hnsw ("embedding" vector_cosine_ops) WHERE "style_index"."shard" = 5;--> statement-breakpoint
CREATE INDEX "style_index_shard_6_embedding_idx" ON "style_index" USING hnsw ("embedding" vector_cosine_ops) WHERE "style_index"."shard" = 6;--> statement-breakpoint
CREATE INDEX "style_index_shard_7_embedding_idx" ON "style_index" USING hnsw ("embedding" vector_cosine_ops) WHERE "style_index"."shard" = 7;--> statement-breakpoint
CREATE INDEX "style_index_shard_account_id_idx" ON "style_index" USING btree ("shard","account_id","generated_at");--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD CONSTRAINT "style_embeddings_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "style_embeddings_account_id_idx" ON "style_embeddings" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "style_embeddings_unindexed_idx" ON "style_embeddings" USING btree ("updated_at") WHERE "style_embeddings"."indexed_at" is null;--> statement-breakpoint
ALTER TABLE "style_embeddings" ADD CONSTRAINT "style_embeddings_visibility_check" CHECK ("style_embeddings"."visibility" in ('private', 'public'));