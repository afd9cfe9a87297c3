/**
 * The assembled product: config, store, dispatcher. The CLI, the server and the
 * library all start here.
 */
import { readFileSync } from "node:fs";
import { loadConfig, type LoadOptions } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { Dispatcher } from "./dispatch/dispatcher.js";
import type { AgentRules } from "./dispatch/request.js";
import { createLogger, type Logger } from "./logger.js";
import { openStore, type Store } from "./store/connect.js";
import { migrateToLatest } from "./store/migrate.js";
import type { PublishRules } from "./store/outbox.js";
import type { WebhookRules } from "./store/webhooks.js";

export interface App {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  readonly dispatcher: Dispatcher;
  readonly webhookRules: WebhookRules;
  readonly publishRules: PublishRules;
  /** how delivery and test requests connect: address guard, extra trusted CAs */
  readonly agentRules: AgentRules;
  close(): Promise<void>;
}

export interface OpenOptions extends LoadOptions {
  /** An already loaded config (skips loading). */
  config?: Config;
  logger?: Logger;
  /** Run migrations on open (default true). */
  migrate?: boolean;
}

export async function openApp(options: OpenOptions = {}): Promise<App> {
  const config = options.config ?? loadConfig(options);
  const logger = options.logger ?? createLogger(config.log.level);
  const store = await openStore({ url: config.db.url, busyTimeoutMs: config.db.busyTimeoutMs });
  try {
    if (options.migrate !== false) await migrateToLatest(store.db);
  } catch (err) {
    await store.close();
    throw err;
  }
  const agentRules: AgentRules = {
    allowPrivateAddresses: config.security.allowPrivateAddresses,
    // Checked when the config was loaded.
    extraCa: config.dispatch.caFile ? readFileSync(config.dispatch.caFile, "utf8") : null,
    maxIdleSockets: config.dispatch.concurrency,
  };
  const dispatcher = new Dispatcher(store.db, config.dispatch, config.retry, logger, store.location, agentRules);
  let closed = false;
  return {
    config,
    store,
    logger,
    dispatcher,
    webhookRules: {
      topics: config.topics,
      url: { allowHttp: config.security.allowHttp, allowPrivateAddresses: config.security.allowPrivateAddresses },
    },
    publishRules: { topics: config.topics, maxPayloadBytes: config.limits.maxPayloadBytes },
    agentRules,
    async close() {
      if (closed) return;
      closed = true;
      dispatcher.close();
      await store.close();
    },
  };
}
