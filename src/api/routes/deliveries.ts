/** /deliveries/:id/retry/: a failed delivery back in line, due now. */
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { attemptsOf, retryDelivery } from "../../store/deliveries.js";
import { deliveryJson } from "../../store/model.js";
import { customerParam, principalOf, scopeOf } from "../auth.js";

export function deliveryRoutes(server: FastifyInstance, app: App): void {
  const { db } = app.store;

  server.post<{ Params: { id: string }; Querystring: { customer?: string } }>(
    "/deliveries/:id/retry/",
    { schema: { querystring: { type: "object", additionalProperties: false, properties: customerParam } } },
    async (request) => {
      const row = await retryDelivery(db, request.params.id, scopeOf(principalOf(request), request.query.customer));
      const attempts = await attemptsOf(db, [row.id]);
      return deliveryJson(row, attempts.get(row.id) ?? []);
    },
  );
}
