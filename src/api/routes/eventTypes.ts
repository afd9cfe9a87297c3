/**
 * /event-types/…: the catalog of JSON Schemas payloads must match, per topic. Any key
 * reads it; only an admin key changes it (it binds every customer's publishers).
 */
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { HookdError } from "../../errors.js";
import { deleteEventType, eventTypeJson, getEventType, listEventTypes, putEventType, type EventTypeInput } from "../../store/eventTypes.js";
import { principalOf } from "../auth.js";
import { routeSchema } from "../schemas.js";

type ByTopic = { Params: { topic: string } };

function requireAdmin(customerId: string | null): void {
  if (customerId !== null) throw new HookdError("forbidden", "only an admin key may change the event-type catalog");
}

export function eventTypeRoutes(server: FastifyInstance, app: App): void {
  const { db } = app.store;

  server.get("/event-types/", { schema: routeSchema("listEventTypes") }, async () => {
    const rows = await listEventTypes(db);
    return { count: rows.length, next: null, previous: null, results: rows.map(eventTypeJson) };
  });

  server.get<ByTopic>("/event-types/:topic/", { schema: routeSchema("getEventType") }, async (request) =>
    eventTypeJson(await getEventType(db, request.params.topic)),
  );

  server.put<ByTopic & { Body: EventTypeInput }>("/event-types/:topic/", { schema: routeSchema("putEventType") }, async (request, reply) => {
    requireAdmin(principalOf(request).customerId);
    const { row, created } = await putEventType(db, request.params.topic, request.body, app.config.topics);
    return reply.status(created ? 201 : 200).send(eventTypeJson(row));
  });

  server.delete<ByTopic>("/event-types/:topic/", { schema: routeSchema("deleteEventType") }, async (request, reply) => {
    requireAdmin(principalOf(request).customerId);
    await deleteEventType(db, request.params.topic);
    return reply.status(204).send();
  });
}
