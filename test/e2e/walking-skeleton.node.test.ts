import { walkingSkeleton } from "./walking-skeleton.ts";

walkingSkeleton("node");
