/** Where the edge writes its log: one JSON object per line; never secrets or full prompts. */
export type Log = (entry: Record<string, unknown>) => void;
