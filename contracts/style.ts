// The style embedding every output gets at its region (regional-gpu/style/style-descriptor.ts) and
// that search compares: shared by the regions that compute it, the edge that stores and queries it,
// and the database column that holds it.

/** The descriptor's recipe; vectors of different descriptors are not comparable. */
export const STYLE_DESCRIPTOR = "genart-style/1";
/** Its length (pgvector column, Vectorize index dimensions). */
export const STYLE_EMBEDDING_DIMS = 128;
