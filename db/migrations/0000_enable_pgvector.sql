-- Custom SQL migration file, put your code below! --
-- pgvector must exist before any vector(n) column; Neon and PGlite (with its vector extension
-- loaded) both ship it.
CREATE EXTENSION IF NOT EXISTS vector;
