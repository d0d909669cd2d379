// Variables every request carries; route-specific ones (caller, body) come from their middleware.
export type AppEnv = { Variables: { requestId: string } };
