/**
 * The durable floors' writer (bareIngest.ts): a group of events and their deliveries
 * inserted into a copy of hookd's database in one transaction at synchronous=FULL, with
 * raw better-sqlite3 prepared statements. Plain CommonJS, so that the worker floor's
 * thread loads it as it is (a worker thread does not inherit tsx's loader); loaded as a
 * worker, it writes each group it is sent and answers once it is committed.
 */
const SQLite = require("better-sqlite3");
const { isMainThread, parentPort, workerData } = require("node:worker_threads");

/** A group is [eventId, deliveryId, topic, payload, now][]. */
function sqliteWriter(file) {
  const db = new SQLite(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  const hook = db.prepare("select id, customer_id from webhooks limit 1").get();
  const event = db.prepare("insert into events (id, customer_id, topic, payload, idempotency_key, created_at) values (?, ?, ?, ?, null, ?)");
  const delivery = db.prepare(
    "insert into deliveries (id, event_id, webhook_id, customer_id, status, attempts, next_attempt_at, created_at, updated_at) values (?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
  );
  return db.transaction((group) => {
    for (const [eventId, deliveryId, topic, payload, now] of group) {
      event.run(eventId, hook.customer_id, topic, payload, now);
      delivery.run(deliveryId, eventId, hook.id, hook.customer_id, now, now, now);
    }
  });
}

if (!isMainThread) {
  const write = sqliteWriter(workerData);
  parentPort.on("message", (group) => {
    write(group);
    parentPort.postMessage(group.length);
  });
}

module.exports = { sqliteWriter };
