// Why a model version could not be made hot. Each has a constant `code`: the scheduler puts it on the
// job's `failed` event and the HTTP layer on its error body, so the edge and operators can tell a
// broken model from an unreachable store from a full GPU.

export class ModelChecksumError extends Error {
  readonly code = "model_checksum_mismatch";
  constructor(path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = "ModelChecksumError";
  }
}

/** The store could not be reached, answered an error, or stalled past the timeout. */
export class ModelStoreUnreachableError extends Error {
  readonly code = "model_store_unreachable";
  constructor(store: string, detail: string, cause?: unknown) {
    super(`model store ${store} is unreachable: ${detail}`, { cause });
    this.name = "ModelStoreUnreachableError";
  }
}

/** The manifest names a file the store does not have. */
export class ModelFileMissingError extends Error {
  readonly code = "model_file_missing";
  constructor(store: string, key: string) {
    super(`model store ${store} has no ${key}`);
    this.name = "ModelFileMissingError";
  }
}

export class ModelNotFoundError extends Error {
  readonly code = "model_version_not_found";
  constructor(ref: string) {
    super(`model ${ref} not found in the model store`);
    this.name = "ModelNotFoundError";
  }
}

/** The graph's inputs or outputs are not the ones its manifest declares. */
export class ModelSignatureError extends Error {
  readonly code = "model_signature_mismatch";
  constructor(ref: string, problems: readonly string[]) {
    super(`model ${ref} does not match its manifest: ${problems.join("; ")}`);
    this.name = "ModelSignatureError";
  }
}

/** The graph loaded but a first run at the smallest size failed: it would fail every job. */
export class ModelWarmUpError extends Error {
  readonly code = "model_warm_up_failed";
  constructor(ref: string, cause: unknown) {
    super(
      `model ${ref}: warm-up run failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
    this.name = "ModelWarmUpError";
  }
}

/** The model cannot fit the memory budget even with every unpinned model evicted. */
export class ModelMemoryBudgetError extends Error {
  readonly code = "model_memory_budget_exceeded";
  override readonly name = "ModelMemoryBudgetError";
}

export class ModelPoolClosedError extends Error {
  readonly code = "model_pool_closed";
  constructor() {
    super("model pool is closed");
    this.name = "ModelPoolClosedError";
  }
}

/** The constant code of a model error, or null for anything else. */
export function modelErrorCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("model_") ? code : null;
}
