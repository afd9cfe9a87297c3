/**
 * Bench databases: a real hookd SQLite file made through the store (migrations,
 * customer, webhooks), then filled fast with set-based SQL: events in batches, and
 * their deliveries as one INSERT … SELECT fan-out per call, instead of one publish each.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createKeyFile, KEY_FILE_NAME } from "../../src/config/keyFile.js";
import { writeTransaction } from "../../src/store/connect.js";
import { createCustomer } from "../../src/store/customers.js";
import type { DeliveryStatus } from "../../src/store/schema.js";
import { createWebhook } from "../../src/store/webhooks.js";

/** Dispatch settings used by every bench tick: the shipped defaults, written out so the table says what ran. */
export const DISPATCH = {
  concurrency: 64,
  perWebhookConcurrency: 8,
  batchSize: 500,
  timeoutMs: 30_000,
  leaseSeconds: 300,
  shutdownGraceMs: 2_000,
} as const;

export const SECRET = "bench-secret";

/** The bench's one customer holds more webhooks (256 in section 10) than the shipped per-customer limit of 100. */
export const LIMITS = { maxWebhooksPerCustomer: 10_000 } as const;

/** A scratch folder for the run, removed by `cleanup`. */
export function scratch(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), "hookd-bench-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface BenchDb {
  file: string;
  app: App;
  customerId: string;
  /** environment for `hookd tick` on this database: HOOKD_ENV, HOOKD_DB, HOOKD_CONFIG */
  env: Record<string, string>;
}

/** Config a section sets beside the bench's own, e.g. `{ retry: { delaysSeconds: [0] } }`, named for its file. */
export interface ConfigExtra {
  name: string;
  settings: Record<string, unknown>;
}

/** The config file every bench process uses (dispatch settings above; logs at warn so the tick's own log is the only cost). */
export function writeBenchConfig(dir: string, extra?: ConfigExtra): string {
  const file = path.join(dir, extra ? `bench-config-${extra.name}.json` : "bench-config.json");
  const config = { dispatch: DISPATCH, limits: LIMITS, log: { level: "warn" }, ...extra?.settings };
  if (!existsSync(file)) writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export function cliEnv(dir: string, dbFile: string, extra?: ConfigExtra): Record<string, string> {
  return { HOOKD_ENV: "sandbox", HOOKD_DB: dbFile, HOOKD_CONFIG: writeBenchConfig(dir, extra), HOOKD_ENCRYPTION_KEY_FILE: benchKeyFile(dir) };
}

/**
 * The run's one key file, in its scratch folder, named for every process: without it a
 * PostgreSQL store's default is `data/hookd.key` in the working directory (the
 * checkout's own), and a store moved to PostgreSQL could not open the secrets sealed in
 * SQLite under the key beside that database.
 */
export function benchKeyFile(dir: string): string {
  const file = path.join(dir, KEY_FILE_NAME);
  // A key file that is named must exist (hookd makes one only in its default place);
  // once made, createKeyFile finds it and leaves it as it is.
  createKeyFile(file);
  return file;
}

/** Open (creating and migrating) a bench database with one customer. */
export async function openBenchDb(dir: string, name: string): Promise<BenchDb> {
  const file = path.join(dir, `${name}.sqlite`);
  const env = cliEnv(dir, file);
  const app = await openApp({ env, logger: silentLogger });
  const existing = await app.store.db.selectFrom("customers").select("id").executeTakeFirst();
  const customerId = existing?.id ?? (await createCustomer(app.store.db, "bench")).id;
  return { file, app, customerId, env };
}

/** Another customer on the same database: webhooks and events made through the result are its own. */
export async function otherCustomer(b: BenchDb, name: string): Promise<BenchDb> {
  return { ...b, customerId: (await createCustomer(b.app.store.db, name)).id };
}

/** Webhooks through the store's own validation; `url(i)` gives each its URL. */
export async function addWebhooks(b: BenchDb, count: number, topic: string, url: (i: number) => string): Promise<string[]> {
  const [group, action] = topic.split(":");
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { row } = await createWebhook(b.app.store.db, b.app.keyring, b.customerId, { url: url(i), group, action, hash_secret: SECRET }, b.app.webhookRules);
    ids.push(row.id);
  }
  return ids;
}

/** A JSON order of about `bytes` bytes; `n` makes each one different. */
export function orderPayload(n: number, bytes = 1024): string {
  const base = {
    id: `ord_${n}`,
    type: "order",
    total_cents: 1000 + (n % 9000),
    currency: "EUR",
    items: [{ sku: `sku-${n % 97}`, qty: 1 + (n % 5) }],
    note: "",
  };
  const pad = Math.max(0, bytes - JSON.stringify(base).length);
  return JSON.stringify({ ...base, note: "x".repeat(pad) });
}

export interface SeedOptions {
  topic: string;
  events: number;
  /** created_at (and next_attempt_at) of the first event; each next one `stepMs` later */
  start: number;
  stepMs?: number;
  status?: Extract<DeliveryStatus, "pending" | "delivered">;
  payloadBytes?: number;
}

const uuidSql = sql<string>`lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6)))`;

/**
 * Insert `events` events of a topic and fan each out to every live webhook subscribed
 * to it, as publish would, but set-based. `delivered` rows get one attempt each: the
 * history a busy installation keeps. Returns the number of deliveries made.
 */
export async function seed(b: BenchDb, o: SeedOptions): Promise<number> {
  const db = b.app.store.db;
  const step = o.stepMs ?? 1;
  const status = o.status ?? "pending";
  // Event ids share a prefix, so "this call's events" is an index range ('.' sorts right after '-').
  const marker = `seed-${o.start}-${Math.random().toString(36).slice(2)}`;
  await writeTransaction(db, async (trx) => {
    for (let i = 0; i < o.events; i += 500) {
      const rows = [];
      for (let j = i; j < Math.min(o.events, i + 500); j++) {
        const at = o.start + j * step;
        rows.push({
          id: `${marker}-${j}`,
          customer_id: b.customerId,
          topic: o.topic,
          payload: orderPayload(j, o.payloadBytes),
          idempotency_key: null,
          created_at: at,
        });
      }
      await trx.insertInto("events").values(rows).execute();
    }
  });
  const finished = status === "delivered";
  const inserted = await sql`
    insert into deliveries (id, event_id, webhook_id, customer_id, status, attempts, next_attempt_at,
      lease_owner, lease_expires_at, last_status_code, last_error, wait_reason, created_at, updated_at, finished_at)
    select ${uuidSql}, e.id, w.id, e.customer_id, ${status}, ${finished ? 1 : 0}, e.created_at,
      null, null, ${finished ? 200 : null}, null, null, e.created_at, e.created_at, ${finished ? sql`e.created_at + 40` : null}
    from events e join webhooks w on w.customer_id = e.customer_id and w.topic = e.topic
    where e.id > ${`${marker}-`} and e.id < ${`${marker}.`} and w.active = 1 and w.deleted_at is null`.execute(db);
  if (finished) {
    await sql`
      insert into attempts (delivery_id, number, started_at, duration_ms, status_code, error, error_message, response_body)
      select d.id, 1, d.created_at, 40, 200, null, null, 'ok'
      from deliveries d where d.event_id > ${`${marker}-`} and d.event_id < ${`${marker}.`}`.execute(db);
  }
  return Number(inserted.numAffectedRows ?? 0);
}

/** Close the store (checkpointing the WAL) so the file can be copied as a template. */
export async function closeBenchDb(b: BenchDb): Promise<void> {
  await b.app.close();
}

/** A fresh copy of a closed template database. */
export function copyDb(template: string, to: string): string {
  for (const suffix of ["-wal", "-shm"]) rmSync(to + suffix, { force: true });
  copyFileSync(template, to);
  return to;
}
