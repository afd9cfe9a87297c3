/**
 * The assembled product: config, store, dispatcher. The CLI, the server and the
 * library all start here.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { readFileSync } from "node:fs";
import { chooseKeyFile, createKeyFile, keyFileError, noKeyFileError, readKeyFile, watchedKeyring, type KeyFileChoice } from "./config/keyFile.js";
import { loadConfig, type LoadOptions } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { localClock } from "./dispatch/clock.js";
import { Dispatcher } from "./dispatch/dispatcher.js";
import type { AgentRules } from "./dispatch/request.js";
import { createLogger, type Logger } from "./logger.js";
import { HookdError } from "./errors.js";
import { explainStoreError, openStore, type Db, type Store } from "./store/connect.js";
import { migrateToLatest, schemaState } from "./store/migrate.js";
import { backoffMs, outageOf, passesByItself } from "./store/outage.js";
import { probeStore } from "./store/probe.js";
import { StoreHealth } from "./store/storeHealth.js";
import type { PublishRules } from "./publishing.js";
import type { WebhookRules } from "./domain/webhookInput.js";
import { emptyKeyring, type Keyring } from "./domain/secretBox.js";
import { keyUsage } from "./store/sealedColumns.js";
import { tracingSettingsOf } from "./telemetry/otelEnv.js";
import { openTracing, type Tracing } from "./telemetry/tracing.js";

export interface App {
  readonly config: Config;
  readonly store: Store;
  /** up or down, for /healthz, /metrics and dispatch; every store error path reports to it */
  readonly health: StoreHealth;
  readonly logger: Logger;
  readonly dispatcher: Dispatcher;
  readonly webhookRules: WebhookRules;
  readonly publishRules: PublishRules;
  /** how delivery and test requests connect: address guard, extra trusted CAs */
  readonly agentRules: AgentRules;
  /** seals the secrets hookd stores and opens them for signing (config/keyFile.ts) */
  readonly keyring: Keyring;
  /** OpenTelemetry traces, when the OTEL_* variables ask for them; null when off (telemetry/tracing.ts) */
  readonly tracing: Tracing | null;
  close(): Promise<void>;
}

export interface OpenOptions extends LoadOptions {
  /** An already loaded config (skips loading). */
  config?: Config;
  logger?: Logger;
  /**
   * What opening may do to the database (default "create"):
   * - "create": create it if missing and bring its schema up to date (`serve`, the library);
   * - "upgrade": bring an existing hookd database up to date, never create one (`tick`,
   *   commands that write), so a mistyped HOOKD_DB is an error, not a new empty database;
   * - "use": use it as it is, changing nothing (read-only commands);
   * - "open": create if missing, check nothing (`hookd migrate`, which migrates itself).
   */
  schema?: SchemaAccess;
  /**
   * The key file (default: "use" for schema "use", else "need"):
   * - "need": it must be there; outside production one is made on first use;
   * - "use": read it if it is there, never make one (read-only commands, export).
   */
  keyFile?: "need" | "use";
  /** where a one-line notice goes (a key file made on first use); default stderr */
  notice?: (line: string) => void;
  /**
   * Tracing to use instead of what the OTEL_* variables ask for (tests: an in-memory
   * exporter, telemetry/sdk.ts tracingWith); null for none. The caller shuts it down.
   */
  tracing?: Tracing | null;
}

export type SchemaAccess = "create" | "upgrade" | "use" | "open";

/**
 * Check (and for "create"/"upgrade" update) hookd's tables as `access` allows. The
 * first read is start-up's check of HOOKD_DB: failing it ends the process, naming the
 * problem. Once the database has answered, losing it is an outage instead.
 */
async function prepareSchema(store: Store, access: SchemaAccess, health: StoreHealth): Promise<void> {
  if (access === "open") return;
  const state = await schemaState(store.db);
  if (state === "current") return;
  if (access === "create" || (access === "upgrade" && state === "behind")) {
    await migrateThroughOutages(store.db, health);
    return;
  }
  throw new HookdError(
    "store_unavailable",
    state === "missing"
      ? `the database ${store.location} has no hookd tables: check HOOKD_DB / db.url, or run \`hookd migrate\` to set up a new one`
      : `the database ${store.location} is from an older hookd: run \`hookd migrate\` (or start \`hookd serve\`) first`,
  );
}

/** Migrations at most this far apart while the database is away. */
const MIGRATE_RETRY_CAP_MS = 5_000;

/**
 * A migration cut off by a restart or a failover (its connection, holding or awaiting
 * the migration lock, terminated) starts again on a new connection, with capped
 * backoff, for as long as the outage lasts; anything else ends start-up.
 */
async function migrateThroughOutages(db: Db, health: StoreHealth): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateToLatest(db);
      return;
    } catch (err) {
      const kind = outageOf(err);
      if (!kind || !passesByItself(kind)) throw err;
      health.failed(err);
      await sleep(backoffMs(attempt, 200, MIGRATE_RETRY_CAP_MS));
    }
  }
}

export async function openApp(options: OpenOptions = {}): Promise<App> {
  const config = options.config ?? loadConfig(options);
  const logger = options.logger ?? createLogger(config.log.level);
  const access = options.schema ?? "create";
  const env = options.env ?? process.env;
  // Checked first: a bad OTEL_* variable is a configuration error, like a bad key, and changes nothing.
  const ownTracing = options.tracing === undefined;
  const tracingSettings = ownTracing ? tracingSettingsOf(env) : null;
  const needKey = (options.keyFile ?? (access === "use" ? "use" : "need")) === "need";
  // Checked before the store is opened: production without its key changes nothing.
  const keyChoice = chooseKeyFile(config, env);
  const found = keyChoice.file ? readKeyFile(keyChoice.file) : null;
  if (!found && needKey && !keyChoice.mayCreate) throw keyChoice.file ? keyFileError(`there is no key file at ${keyChoice.file}`) : noKeyFileError(env);
  const store = await openStore({
    url: config.db.url,
    busyTimeoutMs: config.db.busyTimeoutMs,
    poolSize: config.db.poolSize,
    statementTimeoutMs: config.db.statementTimeoutMs,
    connectTimeoutMs: config.db.connectTimeoutMs,
    create: access === "create" || access === "open",
  });
  const health = new StoreHealth({
    logger,
    probe: () => probeStore(store.db, { recovering: true }),
    describe: (err) => explainStoreError(err, store.location)?.message ?? (err as Error).message,
  });
  let keyring: Keyring;
  try {
    await prepareSchema(store, access, health);
    if (found) keyring = watchedKeyring(keyChoice.file!, found);
    else if (needKey) keyring = await firstKey(keyChoice, store, options.notice ?? ((line) => process.stderr.write(`${line}\n`)));
    else keyring = emptyKeyring(keyChoice.file ? `there is no key file at ${keyChoice.file}` : "no key file is set (security.encryptionKeyFile)");
  } catch (err) {
    health.close();
    await store.close();
    throw explainStoreError(err, store.location) ?? err;
  }
  const tracing = ownTracing ? await openTracing(tracingSettings, logger) : options.tracing!;
  const agentRules: AgentRules = {
    allowPrivateAddresses: config.security.allowPrivateAddresses,
    // Checked when the config was loaded.
    extraCa: config.dispatch.caFile ? readFileSync(config.dispatch.caFile, "utf8") : null,
    maxIdleSockets: config.dispatch.concurrency,
    proxyUrl: config.dispatch.proxyUrl ?? null,
    proxyConnectTimeoutMs: config.dispatch.timeoutMs,
  };
  const dispatcher = new Dispatcher(store.db, config.dispatch, config.retry, logger, {
    storeLocation: store.location,
    health,
    agentRules,
    localClock: localClock(env, config.env),
    keyring,
    maxAttempts: config.limits.maxAttempts,
    tracing,
    propagateToReceivers: config.telemetry.propagateToReceivers,
  });
  let closed = false;
  return {
    config,
    store,
    health,
    logger,
    dispatcher,
    webhookRules: {
      topics: config.topics,
      url: { allowHttp: config.security.allowHttp, allowPrivateAddresses: config.security.allowPrivateAddresses },
      maxPerCustomer: config.limits.maxWebhooksPerCustomer,
      settings: { maxTimeoutMs: config.dispatch.timeoutMs, maxAttempts: config.limits.maxAttempts, maxBatchSize: config.dispatch.maxBatchSize },
    },
    publishRules: { topics: config.topics, maxPayloadBytes: config.limits.maxPayloadBytes },
    agentRules,
    keyring,
    tracing,
    async close() {
      if (closed) return;
      closed = true;
      health.close();
      dispatcher.close();
      await store.close();
      // The last spans (a tick's, a publish's) are exported before the process ends.
      if (ownTracing) await tracing?.shutdown();
    },
  };
}

/**
 * Outside production, the key file is made on first use, so a sandbox starts with two
 * commands. Not for a database that already holds sealed secrets: a new key could not
 * open them, so the operator must point hookd at the key file they were sealed with.
 */
async function firstKey(choice: KeyFileChoice, store: Store, notice: (line: string) => void): Promise<Keyring> {
  const file = choice.file!;
  const ids = Object.keys((await keyUsage(store.db)).byKey);
  if (ids.length > 0) {
    throw keyFileError(
      `there is no key file at ${file}, and the database ${store.location} holds secrets sealed under key ${ids.map((id) => `"${id}"`).join(", ")}: ` +
        "set this key to the key file that holds them (a new key could not open them)",
    );
  }
  const { keyring, created } = createKeyFile(file);
  if (created)
    notice(`hookd: made the key file ${file} (mode 0600): it encrypts webhook secrets; keep a copy apart from the database, which cannot sign without it`);
  return watchedKeyring(file, keyring);
}
