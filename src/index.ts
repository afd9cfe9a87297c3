/**
 * The library: `import { openHookd, publish } from "hookd"`. Opens the same store the
 * daemon uses and publishes events, also inside your own Kysely transaction on the
 * same database (transactional outbox):
 *
 *   await db.transaction().execute(async (trx) => {
 *     await trx.insertInto("orders").values(order).execute();
 *     await hookd.publish({ customerId, topic: "orders:created", payload: JSON.stringify(order) }, trx);
 *   });
 */
import type { Kysely } from "kysely";
import { openApp, type App, type OpenOptions } from "./app.js";
import type { TickOptions, TickSummary } from "./dispatch/dispatcher.js";
import { publish as publishEvent, type PublishInput, type PublishResult } from "./publishing.js";
import type { Database } from "./store/schema.js";
import { tracedPublish } from "./telemetry/tracing.js";

export type { Config } from "./config/schema.js";
export { loadConfig } from "./config/load.js";
export { HookdError } from "./errors.js";
export type { ErrorCode, ErrorDetail } from "./errors.js";
export { verifySignature } from "./verify.js";
export { sign } from "./domain/signature.js";
export { migrateToLatest } from "./store/migrate.js";
export { openStore } from "./store/connect.js";
export type { Store, StoreOptions } from "./store/connect.js";
export type { Database } from "./store/schema.js";
export type { PublishInput, PublishResult } from "./publishing.js";
export type { TickOptions, TickSummary } from "./dispatch/dispatcher.js";

export interface Hookd {
  readonly app: App;
  /** Publish an event; pass `trx` to publish inside your own transaction on the same database. */
  publish(input: PublishInput, trx?: Kysely<Database> | Kysely<any>): Promise<PublishResult>;
  /** One dispatch pass, as `hookd tick`. */
  tick(options?: TickOptions): Promise<TickSummary>;
  close(): Promise<void>;
}

/** Open hookd's store with the same config resolution as the CLI (HOOKD_ENV, HOOKD_CONFIG, HOOKD_DB). */
export async function openHookd(options: OpenOptions = {}): Promise<Hookd> {
  const app = await openApp(options);
  return {
    app,
    // Traced (when on) as a child of the application's active span, where it has a context manager.
    publish: (input, trx) =>
      tracedPublish(app.tracing, input, (traceContext) =>
        publishEvent((trx ?? app.store.db) as Kysely<Database>, input, app.publishRules, Date.now(), traceContext),
      ),
    tick: (tickOptions) => app.dispatcher.tick(tickOptions),
    close: () => app.close(),
  };
}
