/** /healthz and /metrics: for load balancers and Prometheus, so they need no API key. */
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import type { App } from "../../app.js";
import { HookdError } from "../../errors.js";
import type { Metrics } from "../metrics.js";

export function healthRoutes(server: FastifyInstance, app: App, metrics: Metrics): void {
  server.get("/healthz", async (request, reply) => {
    try {
      await sql`select 1`.execute(app.store.db);
      return { status: "ok" };
    } catch (err) {
      request.log.warn({ err: (err as Error).message }, "health check: the store does not answer");
      return reply.status(503).send(new HookdError("store_unavailable", "the store does not answer").toJSON());
    }
  });

  server.get("/metrics", async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
}
