/**
 * The floors HTTP ingest is measured against (bench section 3), each a process of its
 * own like `hookd serve`, on POST /events/ with the same framework, body and client:
 *
 *   bare       parse the JSON and answer 202 (the yardstick)
 *   postgres   the same doing one INSERT per request through a pg pool of hookd's
 *              default size, before its 202
 *   sqlite     the same writing hookd's two rows (the event and its delivery, hookd's
 *              schema and indexes, a copy of its database) with raw better-sqlite3 in a
 *              group commit at synchronous=FULL, before its 202: the fastest durable
 *              ingest into that schema on one thread, with no auth, validation or logging
 *   worker     the same rows, committed by a worker thread with its own connection, so
 *              parsing and committing overlap: what moving hookd's writes off the
 *              event loop could reach at best
 *
 *   node --import tsx test/bench/bareIngest.ts <port> [postgres://… | sqlite:<file> | worker:<file>]
 *
 * Prints "listening" on stdout once it accepts connections.
 */
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import Fastify from "fastify";
import pg from "pg";
import { timeOrderedId } from "../../src/store/timeOrderedId.js";

/** One event and its delivery, as hookd writes them: [eventId, deliveryId, topic, payload, now]. */
type Rows = [string, string, string, string, number];

const require = createRequire(import.meta.url);
const WRITER = require.resolve("./floorWriter.cjs");
const { sqliteWriter } = require(WRITER) as { sqliteWriter: (file: string) => (group: readonly Rows[]) => void };

const [port, target = ""] = process.argv.slice(2);
const pool = target.startsWith("postgres") ? new pg.Pool({ connectionString: target, max: 10 }) : null;
if (pool)
  await pool.query("create table if not exists bench_floor (id text primary key, topic text not null, payload text not null, created_at bigint not null)");
const commit = target.startsWith("sqlite:") ? inline(target.slice(7)) : target.startsWith("worker:") ? offThread(target.slice(7)) : null;

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
  if (commit) {
    const now = Date.now();
    await commit([timeOrderedId(now), timeOrderedId(now), request.body.topic, JSON.stringify(request.body.payload), now]);
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

/** Group commit on the event loop, as hookd's (store/groupCommit.ts): what arrives meanwhile joins the next turn's transaction. */
function inline(file: string): (rows: Rows) => Promise<void> {
  const write = sqliteWriter(file);
  let group: { rows: Rows; done: () => void }[] = [];
  return (rows) =>
    new Promise<void>((done) => {
      group.push({ rows, done });
      if (group.length > 1) return;
      setImmediate(() => {
        const taken = group;
        group = [];
        write(taken.map((g) => g.rows));
        for (const g of taken) g.done();
      });
    });
}

/** Group commit on a worker thread: one group in flight, the next gathering meanwhile. */
function offThread(file: string): (rows: Rows) => Promise<void> {
  const worker = new Worker(WRITER, { workerData: file });
  let gathering: { rows: Rows; done: () => void }[] = [];
  let inFlight: typeof gathering | null = null;
  const send = () => {
    if (inFlight || gathering.length === 0) return;
    inFlight = gathering;
    gathering = [];
    worker.postMessage(inFlight.map((g) => g.rows));
  };
  worker.on("message", () => {
    for (const g of inFlight!) g.done();
    inFlight = null;
    send();
  });
  return (rows) =>
    new Promise<void>((done) => {
      gathering.push({ rows, done });
      if (gathering.length === 1) setImmediate(send);
    });
}
