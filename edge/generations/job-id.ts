// Job ids name one dispatch attempt of a generation: `gen_...` for the first, `gen_....2` for a
// re-dispatch after a retryable failure, and so on. The attempt number travels with the job, so
// bounding re-dispatches needs no extra state, and a late event from an earlier attempt is known.

export interface JobRef {
  generationId: string;
  attempt: number;
}

export const jobId = ({ generationId, attempt }: JobRef) =>
  attempt === 1 ? generationId : `${generationId}.${attempt}`;

export function parseJobId(id: string): JobRef | null {
  const m = /^(gen_[0-9a-z]{26})(?:\.([2-9]|[1-9]\d))?$/.exec(id);
  if (!m) return null;
  return { generationId: m[1]!, attempt: m[2] === undefined ? 1 : Number(m[2]) };
}
