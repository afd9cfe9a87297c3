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
import { ownerOf, principalOf, refusePortal } from "../auth.js";
import { MAX_LINK_SECONDS, routeSchema } from "../schemas.js";
import { onPublicUrl } from "../pagination.js";

export const DEFAULT_LINK_SECONDS = 300;
export { MAX_LINK_SECONDS };

export function portalRoutes(server: FastifyInstance, app: App): void {
  const { db } = app.store;

  server.post<{ Body: { customer?: string; expires_in?: number } | undefined }>(
    "/portal-sessions/",
    { schema: routeSchema("createPortalSession") },
    async (request, reply) => {
      const body = request.body ?? {};
      const principal = principalOf(request);
      // A portal session minting links for itself would renew its one-hour limit forever.
      refusePortal(principal, "create portal links");
      const customerId = ownerOf(principal, body.customer);
      if (!(await getCustomer(db, customerId))) throw notFound("customer", customerId);
      const expiresAt = Date.now() + (body.expires_in ?? DEFAULT_LINK_SECONDS) * 1000;
      const { token } = await createConsoleSession(db, "link", customerId, principal.keyId, expiresAt);
      // On server.publicUrl, or relative: never from the request's Host, which the client chooses.
      const url = onPublicUrl(`/ui/portal#${token}`, request.server.publicUrl);
      return reply
        .status(201)
        .header("cache-control", "no-store")
        .send({ url, expires_at: new Date(expiresAt).toISOString() });
    },
  );
}
