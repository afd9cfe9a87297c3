/** A database ready for a `hookd serve` child: migrated, with a customer and its key, on a free port. */
import path from "node:path";
import { openApp } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { createCustomer } from "../../src/store/customers.js";
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
