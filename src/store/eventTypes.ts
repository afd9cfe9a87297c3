/**
 * The event-type catalog in the store: a JSON Schema per topic (the rules are in
 * domain/eventTypes.ts). One row per topic; publishing reads it in the same statement
 * as the subscribed webhooks (store/outbox.ts).
 */
import { checkEventType } from "../domain/eventTypes.js";
import { topicProblem } from "../domain/topics.js";
import { notFound, validationError, type ErrorDetail } from "../errors.js";
import { sql } from "kysely";
import type { Db } from "./connect.js";
import type { EventTypeTable } from "./schema.js";

export interface EventTypeInput {
  schema?: unknown;
  description?: unknown;
}

export interface EventTypeJson {
  topic: string;
  schema: unknown;
  description: string | null;
  created_at: string;
  updated_at: string;
}

export function eventTypeJson(row: EventTypeTable): EventTypeJson {
  return {
    topic: row.topic,
    schema: JSON.parse(row.schema),
    description: row.description,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

/** Create or replace `topic`'s schema; returns the row and whether it is new. */
export async function putEventType(
  db: Db,
  topic: string,
  input: EventTypeInput,
  topics: readonly string[],
  now = Date.now(),
): Promise<{ row: EventTypeTable; created: boolean }> {
  const problems: ErrorDetail[] = [];
  const bad = topicProblem(topics, topic);
  if (bad) problems.push({ field: "topic", message: bad });
  const checked = checkEventType(input);
  if ("problems" in checked) problems.push(...checked.problems);
  if (problems.length > 0 || "problems" in checked) throw validationError(problems);
  const row: EventTypeTable = { topic, schema: checked.schema, description: checked.description, created_at: now, updated_at: now };
  // One statement, so two PUTs of one topic at once cannot collide; the first creation
  // time stays. updated_at only ever grows, even for two saves in one millisecond:
  // publishers key the schemas they compiled by it (store/outbox.ts).
  const stored = await db
    .insertInto("event_types")
    .values(row)
    .onConflict((oc) =>
      oc.column("topic").doUpdateSet({
        schema: row.schema,
        description: row.description,
        updated_at: sql<number>`case when ${sql.ref("event_types.updated_at")} >= ${now} then ${sql.ref("event_types.updated_at")} + 1 else ${now} end`,
      }),
    )
    .returning(["created_at", "updated_at"])
    .executeTakeFirstOrThrow();
  const createdAt = Number(stored.created_at);
  return { row: { ...row, created_at: createdAt, updated_at: Number(stored.updated_at) }, created: createdAt === now && Number(stored.updated_at) === now };
}

export async function getEventType(db: Db, topic: string): Promise<EventTypeTable> {
  const row = await db.selectFrom("event_types").selectAll().where("topic", "=", topic).executeTakeFirst();
  if (!row) throw notFound("event type", topic);
  return row;
}

export async function listEventTypes(db: Db): Promise<EventTypeTable[]> {
  return db.selectFrom("event_types").selectAll().orderBy("topic").execute();
}

export async function deleteEventType(db: Db, topic: string): Promise<void> {
  const res = await db.deleteFrom("event_types").where("topic", "=", topic).executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) throw notFound("event type", topic);
}
