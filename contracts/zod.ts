import { extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";

// zod with `.openapi(name)`: the public schemas name themselves once, so /openapi.json refers to one
// component wherever a schema is nested. Idempotent (zod's prototype is patched once per process).
extendZodWithOpenApi(z);

export { z };
