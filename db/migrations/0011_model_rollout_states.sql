-- Rollout states: canary|active|retired becomes candidate|canary|default|retired. The newest
-- active version of each model becomes its default, older active ones candidates (still served
-- when pinned); only the newest canary stays one; shares belong to canaries only. The check keeps
-- its old name here; the next migration replaces it with the schema's.
ALTER TABLE "model_versions" DROP CONSTRAINT "model_versions_status_check";--> statement-breakpoint
UPDATE "model_versions" AS v SET "status" = CASE
    WHEN v."id" = (
      SELECT n."id" FROM "model_versions" AS n
      WHERE n."model_id" = v."model_id" AND n."status" = 'active'
      ORDER BY n."created_at" DESC, n."id" DESC LIMIT 1
    ) THEN 'default'
    ELSE 'candidate'
  END
  WHERE v."status" = 'active';--> statement-breakpoint
UPDATE "model_versions" AS v SET "status" = 'candidate'
  WHERE v."status" = 'canary' AND v."id" <> (
    SELECT n."id" FROM "model_versions" AS n
    WHERE n."model_id" = v."model_id" AND n."status" = 'canary'
    ORDER BY n."created_at" DESC, n."id" DESC LIMIT 1
  );--> statement-breakpoint
UPDATE "model_versions" SET "traffic_share" = 0 WHERE "status" <> 'canary';--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_status_check" CHECK ("model_versions"."status" in ('candidate', 'canary', 'default', 'retired'));
