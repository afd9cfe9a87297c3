/**
 * The HTTP API on a random port (test config: server.port 0) over a temp database,
 * with two customers and an admin key, and a small fetch wrapper.
 */
import { startServer, type ApiServer } from "../../src/api/server.js";
import type { OpenOptions } from "../../src/app.js";
import type { Logger } from "../../src/logger.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { createCustomer } from "../../src/store/customers.js";
import { testApp, type TestApp } from "./app.js";
import type { Backend } from "./backends.js";

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // Tests read arbitrary JSON shapes.
  body: any;
}

export interface CallOptions {
  /** default: the first customer's key; null sends none */
  key?: string | null;
  /** sent as JSON */
  body?: unknown;
  /** sent as is (Content-Type application/json unless headers say otherwise) */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export interface ApiHarness {
  app: TestApp;
  server: ApiServer;
  /** the first customer (app.customerId) and its key */
  key: string;
  /** a second customer, who must never see the first one's resources */
  other: { customerId: string; key: string };
  adminKey: string;
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  cleanup(): Promise<void>;
}

export async function apiHarness(
  overrides: Record<string, unknown> = {},
  backend: Backend = "sqlite",
  logger?: Logger,
  options: Pick<OpenOptions, "tracing"> = {},
): Promise<ApiHarness> {
  const app = await testApp(overrides, backend, logger, options);
  const server = await startServer(app);
  const key = (await createApiKey(app.store.db, app.customerId)).key;
  const otherCustomer = await createCustomer(app.store.db, "globex");
  const other = { customerId: otherCustomer.id, key: (await createApiKey(app.store.db, otherCustomer.id)).key };
  const adminKey = (await createApiKey(app.store.db, null)).key;

  async function call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    const auth = options.key === undefined ? key : options.key;
    if (auth !== null) headers.authorization = `Bearer ${auth}`;
    let body: string | Buffer | undefined;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (options.raw !== undefined) body = options.raw;
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
    const res = await fetch(`${server.url}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // /metrics is text
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  }

  return {
    app,
    server,
    key,
    other,
    adminKey,
    call,
    async cleanup() {
      await server.close();
      await app.cleanup();
    },
  };
}
