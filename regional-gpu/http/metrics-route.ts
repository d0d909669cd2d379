import type { Handler, MiddlewareHandler } from "hono";

// GET /metrics for Prometheus (unsigned, like the probes: scraped from inside the region's network),
// and a counter of job submissions by answer, measured where the answer is known: after the handler
// and the one onError have run.

export interface MetricsSource {
  render(): Promise<{ contentType: string; body: string }>;
  intakeAnswered(status: number): void;
  /** The edge dropped a job: canceled by its client, its lease expired, or superseded. */
  jobCanceled(reason: string, state: string): void;
}

export const metricsHandler =
  (metrics: MetricsSource): Handler =>
  async (c) => {
    const { contentType, body } = await metrics.render();
    return c.body(body, 200, { "content-type": contentType, "cache-control": "no-store" });
  };

export const countIntake =
  (metrics: MetricsSource): MiddlewareHandler =>
  async (c, next) => {
    await next();
    if (c.req.method === "POST") metrics.intakeAnswered(c.res.status);
  };
