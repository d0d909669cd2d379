export {
  ApiError,
  invalidRequest,
  notFound,
  unprocessable,
  type ApiErrorInit,
} from "./api-error.ts";
export { errorBody, errorHandler, notFoundHandler } from "./error-handler.ts";
