import type { Kysely } from "kysely";

/**
 * OpenTelemetry traces (issue 20): events.trace_context, the W3C traceparent of the
 * span that published the event, so that each attempt, in any dispatcher and however
 * much later, links to it. Null when tracing was off (or the span not sampled).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("events").addColumn("trace_context", "text").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("events").dropColumn("trace_context").execute();
}
