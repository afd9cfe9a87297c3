/**
 * POST /portal-sessions/: a short-lived link that opens the console as one customer,
 * for a product to put behind a button on its own settings page. The token rides in
 * the URL's fragment, so it never reaches a server log or a Referer header.
 */
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { createConsoleSession } from "../../store/consoleSessions.js";
import { getCustomer } from "../../store/customers.js";
import { notFound } from "../../errors.js";
import { customerParam, ownerOf, principalOf } from "../auth.js";

export const DEFAULT_LINK_SECONDS = 300;
export const MAX_LINK_SECONDS = 3600;

export function portalRoutes(server: FastifyInstance, app: App): void {
  const { db } = app.store;

  server.post<{ Body: { customer?: string; expires_in?: number } | undefined }>(
    "/portal-sessions/",
    {
      schema: {
        body: {
          type: "object",
          additionalProperties: false,
          properties: { ...customerParam, expires_in: { type: "integer", minimum: 1, maximum: MAX_LINK_SECONDS } },
        },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const customerId = ownerOf(principalOf(request), body.customer);
      if (!(await getCustomer(db, customerId))) throw notFound("customer", customerId);
      const expiresAt = Date.now() + (body.expires_in ?? DEFAULT_LINK_SECONDS) * 1000;
      const { token } = await createConsoleSession(db, "link", customerId, expiresAt);
      const url = `${request.protocol}://${request.host}/ui/portal#${token}`;
      return reply
        .status(201)
        .header("cache-control", "no-store")
        .send({ url, expires_at: new Date(expiresAt).toISOString() });
    },
  );
}
