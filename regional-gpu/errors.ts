import type { VerifyFailure } from "../contracts/signing.ts";
import { STATUS_OF_ERROR_TYPE, type ErrorBody, type ErrorType } from "../contracts/errors.ts";

// Errors the regional node answers over HTTP (turned into the one envelope of contracts/errors.ts in
// the app's single onError) and the codes of failed jobs it reports to the edge.

export interface HttpErrorOptions {
  param?: string;
  /** Seconds, for 429 and 503. */
  retryAfterS?: number;
  /** Overrides the status of the error type (413, 416). */
  status?: number;
  /** Extra response headers (e.g. Content-Range on 416). */
  headers?: Record<string, string>;
}

export class RegionHttpError extends Error {
  readonly type: ErrorType;
  readonly code: string;
  readonly status: number;
  readonly param?: string;
  readonly retryAfterS?: number;
  readonly headers: Record<string, string>;

  constructor(type: ErrorType, code: string, message: string, opts: HttpErrorOptions = {}) {
    super(message);
    this.name = "RegionHttpError";
    this.type = type;
    this.code = code;
    this.status = opts.status ?? STATUS_OF_ERROR_TYPE[type];
    if (opts.param !== undefined) this.param = opts.param;
    if (opts.retryAfterS !== undefined) this.retryAfterS = opts.retryAfterS;
    this.headers = { ...opts.headers };
    if (opts.retryAfterS !== undefined) this.headers["retry-after"] = String(opts.retryAfterS);
  }

  body(requestId: string): ErrorBody {
    return {
      error: {
        type: this.type,
        code: this.code,
        message: this.message,
        ...(this.param !== undefined && { param: this.param }),
        request_id: requestId,
      },
    };
  }
}

export class SignatureError extends RegionHttpError {
  constructor(reason: VerifyFailure | "replayed") {
    const messages = {
      unknown_key: "request is signed with a key this node does not hold",
      missing: "request is not signed",
      malformed: "request signature headers are malformed",
      stale: "request timestamp is outside the allowed window",
      mismatch: "request signature does not match",
      replayed: "request signature was already used",
    };
    super("authentication_error", `signature_${reason}`, messages[reason]);
    this.name = "SignatureError";
  }
}

export class InvalidRequestError extends RegionHttpError {
  constructor(code: string, message: string, opts: HttpErrorOptions = {}) {
    super("invalid_request_error", code, message, opts);
    this.name = "InvalidRequestError";
  }
}

export class ModelVersionNotFoundError extends RegionHttpError {
  constructor(model: string, version: string) {
    super(
      "not_found_error",
      "model_version_not_found",
      `model ${model}@${version} is not available in this region`,
      {
        param: "model_version",
      },
    );
    this.name = "ModelVersionNotFoundError";
  }
}

export class NotAcceptingJobsError extends RegionHttpError {
  constructor(reason: "draining" | "not_ready", retryAfterS: number) {
    const message =
      reason === "draining" ? "region node is draining" : "region node is still loading its models";
    super("overloaded_error", `region_${reason}`, message, { retryAfterS });
    this.name = "NotAcceptingJobsError";
  }
}

export class QueueFullError extends RegionHttpError {
  constructor(depth: number, retryAfterS: number) {
    super("rate_limit_error", "queue_full", `region queue is full (${depth} jobs waiting)`, {
      retryAfterS,
    });
    this.name = "QueueFullError";
  }
}

export class JobNotFoundError extends RegionHttpError {
  constructor(jobId: string) {
    super("not_found_error", "job_not_found", `no job ${jobId} in this region`, {
      param: "job_id",
    });
    this.name = "JobNotFoundError";
  }
}

/** The shared queue's Redis does not answer: the edge should try another region. */
export class QueueUnavailableError extends RegionHttpError {
  constructor(cause: unknown) {
    super("overloaded_error", "queue_unavailable", "region queue is unavailable", {
      retryAfterS: 5,
    });
    this.name = "QueueUnavailableError";
    this.cause = cause;
  }
}

/** Codes of `failed` JobEvents. */
export const JOB_FAILURE = {
  /** The node stopped before the job started; the edge may route it elsewhere. */
  draining: "region_draining",
  modelUnavailable: "model_unavailable",
  /** The model is in no local tier and the model store cannot be reached. */
  modelStoreUnreachable: "model_store_unreachable",
  invalidInput: "invalid_input",
  inference: "inference_failed",
  /** An upscale by resampling could not read its parent's image. */
  sourceUnavailable: "source_unavailable",
  encode: "encode_failed",
  upload: "upload_failed",
  /** The output could not be checked by the safety classifier; nothing was published. */
  moderation: "moderation_failed",
  /** The node's drain deadline passed while the job was running. */
  shutdown: "shutdown_deadline_exceeded",
  /** Shared queue: the nodes running the job died (lock lost) more times than allowed. */
  nodeLost: "node_lost",
} as const;
export type JobFailureCode = (typeof JOB_FAILURE)[keyof typeof JOB_FAILURE];

/** A failure of one job at one stage, carried to the `failed` event. */
export class JobFailure extends Error {
  readonly code: JobFailureCode;
  constructor(code: JobFailureCode, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "JobFailure";
    this.code = code;
  }
}
