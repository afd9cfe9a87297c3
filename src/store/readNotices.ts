/**
 * PostgreSQL: the connection on which a process hears, on channel `hookd_reads`, that
 * another process changed rows its read cache may hold (readCache.ts, migration 012).
 * Started by the first cached read, so a one-shot command that reads nothing cached
 * never opens it. Until it listens, and whenever it is lost (a restart, a failover),
 * the cache is not used: notices sent meanwhile are gone, so it forgets everything
 * and listens again, a second apart, for as long as the store is open.
 */
import type pg from "pg";
import type { ReadCache } from "./readCache.js";

const RETRY_MS = 1_000;

export interface ReadNotices {
  /** Whether the cache may be used now; starts listening on first call. */
  listening(cache: ReadCache): boolean;
  close(): Promise<void>;
}

export function readNotices(Client: typeof pg.Client, config: pg.ClientConfig): ReadNotices {
  let client: pg.Client | null = null;
  let live = false;
  let started = false;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;

  const listen = async (cache: ReadCache): Promise<void> => {
    const c = new Client(config);
    const lost = () => {
      if (client !== c) return;
      client = null;
      live = false;
      cache.changed();
      if (!closed) retry = setTimeout(() => void listen(cache), RETRY_MS).unref();
    };
    // Errors end the connection; "end" follows, and the cache stops being used at once.
    c.on("error", lost);
    c.on("end", lost);
    c.on("notification", () => cache.changed());
    client = c;
    try {
      await c.connect();
      await c.query("listen hookd_reads");
      if (closed || client !== c) return void c.end().catch(() => {});
      // What changed before this moment was never heard: start empty.
      cache.changed();
      live = true;
    } catch {
      c.end().catch(() => {});
      lost();
    }
  };

  return {
    listening(cache) {
      if (!started && !closed) {
        started = true;
        void listen(cache);
      }
      return live;
    },
    async close() {
      closed = true;
      live = false;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
