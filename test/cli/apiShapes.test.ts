/**
 * SPEC: `--json` prints exactly the JSON the API returns for the same thing. The CLI's
 * output, on both stores, is checked against /openapi.json and read back over HTTP
 * through hookd/client from a server on the same database.
 */
import { afterEach, describe, expect, it } from "vitest";
import { openApp } from "../../src/app.js";
import { startServer } from "../../src/api/server.js";
import { HookdClient, HookdError } from "../../src/client.js";
import { silentLogger } from "../../src/logger.js";
import { backends, migratedDatabase } from "../helpers/backends.js";
import { runCli } from "../helpers/cli.js";
import { documentCheck } from "../helpers/openapi.js";
import { startReceiver } from "../helpers/receiver.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe.each(backends)("%s", (backend) => {
  it("hookd --json prints what the API answers, as /openapi.json documents it", { timeout: 120_000 }, async () => {
    const database = await migratedDatabase(backend);
    closers.push(() => database.drop());
    const receiver = await startReceiver();
    closers.push(() => receiver.close());
    const env = { HOOKD_DB: database.url, HOOKD_ENV: "test" };
    const json = async (...args: string[]) => {
      const r = await runCli(["--json", ...args], env);
      if (r.code !== 0) throw new Error(`hookd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    };
    const app = await openApp({ env, logger: silentLogger });
    closers.push(() => app.close());
    const server = await startServer(app);
    closers.push(() => server.close());

    const customer = await json("customers", "create", "Acme");
    const client = new HookdClient({ baseUrl: server.url, apiKey: customer.api_key });
    const doc = documentCheck(await client.openApi());

    const create = `webhooks create --customer ${customer.id} --url ${receiver.url}/in --group orders --action created --secret s3cret`;
    const created = await json(...create.split(" "));
    doc.check("createWebhook", 201, created);
    const { hash_secret: _secret, ...shown } = created;
    expect(await client.getWebhook(created.id)).toEqual(shown);

    const listed = await json("webhooks", "list");
    doc.check("listWebhooks", 200, listed);
    expect((await client.listWebhooks()).results).toEqual(listed.results);

    const published = await json("publish", "--customer", customer.id, "--topic", "orders:created", "--data", '{"id": 7}');
    doc.check("publishEvent", 202, published);
    expect(await client.getEvent(published.id)).toMatchObject({
      id: published.id,
      payload: { id: 7 },
      deliveries: [{ webhook: created.id, status: "pending" }],
    });

    await json("tick");
    const delivered = await json("deliveries", "list", "--webhook", created.id);
    doc.check("listWebhookDeliveries", 200, delivered);
    expect((await client.listWebhookDeliveries(created.id)).results).toEqual(delivered.results);

    await json("webhooks", "delete", created.id);
    await expect(client.getWebhook(created.id)).rejects.toThrow(HookdError);
  });
});
