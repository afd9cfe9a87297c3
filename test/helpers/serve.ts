/** `hookd serve` children: a database ready for one (migrated, a customer and its key, a free port), and API processes. */
import path from "node:path";
import { openApp } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { createCustomer } from "../../src/store/customers.js";
import { collect, spawnCli, untilServing, type CliResult } from "./cli.js";
import { closedPort } from "./receiver.js";

export async function serveSetup(
  dir: string,
  extraEnv: Record<string, string> = {},
): Promise<{ env: Record<string, string>; url: string; customerId: string; key: string }> {
  const env = { HOOKD_DB: path.join(dir, "hookd.sqlite"), HOOKD_PORT: String(await closedPort()), ...extraEnv };
  const app = await openApp({ env: { HOOKD_ENV: "test", ...env }, logger: silentLogger });
  const customer = await createCustomer(app.store.db, "acme");
  const { key } = await createApiKey(app.store.db, customer.id);
  await app.close();
  return { env, url: `http://127.0.0.1:${env.HOOKD_PORT}`, customerId: customer.id, key };
}

export interface ApiProcesses {
  /** one base URL per process */
  urls: string[];
  /** SIGTERM to each, then their results */
  stop(): Promise<CliResult[]>;
}

/** `count` × `hookd serve --role api` on the database `env` names, each on a free port, once all answer /healthz. */
export async function apiProcesses(count: number, env: Record<string, string>): Promise<ApiProcesses> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await closedPort());
  const servers = ports.map((port) => spawnCli(["serve", "--role", "api"], { ...env, HOOKD_PORT: String(port) }));
  const exits = servers.map((s) => collect(s));
  const stop = async () => {
    for (const s of servers) s.kill("SIGTERM");
    return Promise.all(exits);
  };
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  try {
    for (const url of urls) {
      const health = await untilServing(url);
      if (health.status !== 200) throw new Error(`${url}/healthz answered ${health.status}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { urls, stop };
}
