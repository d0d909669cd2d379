import { STATUS_OF_ERROR_TYPE, type ErrorType, type PolicyMatch } from "../../contracts/errors.ts";

export interface ApiErrorInit {
  type: ErrorType;
  code: string;
  message: string;
  param?: string;
  categories?: string[];
  /** content_policy_violation: the matched spans. */
  matches?: PolicyMatch[];
  /** The generation the error was recorded on. */
  generation?: string;
  /** Overrides the status of `type` (the one case today: 413 and 416 are invalid_request_error). */
  status?: number;
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
}

/** The one error every route throws; the app's onError turns it into the envelope of API.md. */
export class ApiError extends Error {
  readonly type: ErrorType;
  readonly code: string;
  readonly param: string | undefined;
  readonly categories: string[] | undefined;
  readonly matches: PolicyMatch[] | undefined;
  readonly generation: string | undefined;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.name = "ApiError";
    this.type = init.type;
    this.code = init.code;
    this.param = init.param;
    this.categories = init.categories;
    this.matches = init.matches;
    this.generation = init.generation;
    this.status = init.status ?? STATUS_OF_ERROR_TYPE[init.type];
    this.headers = init.headers ?? {};
  }
}

export const invalidRequest = (code: string, message: string, param?: string) =>
  new ApiError({ type: "invalid_request_error", code, message, param });

export const notFound = (message: string, code = "resource_not_found") =>
  new ApiError({ type: "not_found_error", code, message });

/** 422 invalid_request_error: a valid request the model or the data cannot honour. */
export const unprocessable = (code: string, message: string, param?: string) =>
  new ApiError({ type: "invalid_request_error", code, message, param, status: 422 });
