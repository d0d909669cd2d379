import { walkingSkeleton } from "./walking-skeleton.ts";

walkingSkeleton("deno");
