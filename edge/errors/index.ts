export { ApiError, invalidRequest, notFound, type ApiErrorInit } from "./api-error.ts";
export { errorBody, errorHandler, notFoundHandler } from "./error-handler.ts";
