import { ApiError } from "../errors/index.ts";

/** 451 for an output hidden after reports (pending review) or removed by a reviewer. */
export function hiddenOutput(state: "pending" | "removed"): ApiError {
  return new ApiError({
    type: "permission_error",
    status: 451,
    code: state === "removed" ? "output_removed" : "output_under_review",
    message:
      state === "removed"
        ? "this output was removed after review"
        : "this output is hidden after reports, pending review",
  });
}
