/**
 * The floors HTTP ingest is measured against (bench section 3), as a process of its own
 * like `hookd serve`: a bare fastify route on POST /events/ that parses the same JSON
 * body and answers 202, and with a PostgreSQL URL the same route doing one INSERT per
 * request through a pg pool of hookd's default size, before its 202.
 *
 *   node --import tsx test/bench/bareIngest.ts <port> [postgres://…]
 *
 * Prints "listening" on stdout once it accepts connections.
 */
import { randomUUID } from "node:crypto";
import Fastify from "fastify";
import pg from "pg";

const [port, pgUrl] = process.argv.slice(2);
const pool = pgUrl ? new pg.Pool({ connectionString: pgUrl, max: 10 }) : null;
if (pool)
  await pool.query("create table if not exists bench_floor (id text primary key, topic text not null, payload text not null, created_at bigint not null)");

const server = Fastify({ logger: false });
server.post<{ Body: { topic: string; payload: unknown } }>("/events/", async (request, reply) => {
  const id = randomUUID();
  if (pool) {
    await pool.query("insert into bench_floor (id, topic, payload, created_at) values ($1, $2, $3, $4)", [
      id,
      request.body.topic,
      JSON.stringify(request.body.payload),
      Date.now(),
    ]);
  }
  return reply.status(202).send({ id, topic: request.body.topic, deliveries: 1 });
});
await server.listen({ host: "127.0.0.1", port: Number(port) });
process.stdout.write("listening\n");
process.once("SIGTERM", () => {
  void server
    .close()
    .then(() => pool?.end())
    .then(() => process.exit(0));
});
