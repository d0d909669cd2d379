import { defineConfig } from "drizzle-kit";

// `npm run db:generate -- --name <what_changed>` writes a named migration into db/migrations.
// Generation needs no database; `dbCredentials` serves `drizzle-kit studio`/`push` against a URL.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema/index.ts",
  out: "./db/migrations",
  strict: true,
  verbose: true,
  ...(process.env.DATABASE_URL?.startsWith("postgres")
    ? { dbCredentials: { url: process.env.DATABASE_URL } }
    : {}),
});
