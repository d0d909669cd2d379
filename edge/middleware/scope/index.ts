export {
  declaredScope,
  grantedScopes,
  hasScope,
  keyedRoutes,
  missingScope,
  requireScope,
  routeScope,
} from "./scope.ts";
