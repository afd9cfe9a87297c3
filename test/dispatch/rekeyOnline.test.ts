/**
 * `hookd secrets rekey` while two `hookd serve` nodes (real processes) deliver and a
 * rotation happens: every request the receiver gets verifies with the standardwebhooks
 * package and the seed-003 X-Signature, nothing fails, no rotation is lost, and at the
 * end every stored secret is under the new key. The nodes started with the old key
 * file only: the new first line reaches them by the file being read again.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { generateKeyLine } from "../../src/domain/secretBox.js";
import { silentLogger } from "../../src/logger.js";
import { publish } from "../../src/publishing.js";
import { createCustomer } from "../../src/store/customers.js";
import { rotateSecret } from "../../src/store/rotation.js";
import { keyUsage, openWebhookSecrets } from "../../src/store/sealedColumns.js";
import { createWebhook, getWebhook } from "../../src/store/webhooks.js";
import { backends, tempDatabase, type TempDatabase } from "../helpers/backends.js";
import { collect, runCli, spawnCli, untilServing, type CliResult } from "../helpers/cli.js";
import { closedPort, startReceiver, type Receiver } from "../helpers/receiver.js";
import { verdict } from "../helpers/verifyingReceiver.js";

const WEBHOOKS = 120;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let database: TempDatabase | undefined;
let app: App | undefined;
let receiver: Receiver | undefined;
const nodes: ChildProcess[] = [];
afterEach(async () => {
  for (const node of nodes.splice(0)) node.kill("SIGKILL");
  await receiver?.close();
  await app?.close();
  await database?.drop();
  [database, app, receiver] = [undefined, undefined, undefined];
});

describe.each(backends)("hookd secrets rekey beside hookd serve (%s)", (kind) => {
  it("every delivery during the rekey verifies, nothing fails, and a concurrent rotation is kept", { timeout: 240_000 }, async () => {
    database = await tempDatabase(kind);
    const keyFile = path.join(database.dir, "hookd.key");
    const old = generateKeyLine("old");
    writeFileSync(keyFile, `${old}\n`, { mode: 0o600 });
    const config = path.join(database.dir, "config.json");
    writeFileSync(config, JSON.stringify({ dispatch: { schedule: "* * * * * *" }, limits: { maxWebhooksPerCustomer: WEBHOOKS } }));
    const env = { HOOKD_DB: database.url, HOOKD_ENCRYPTION_KEY_FILE: keyFile, HOOKD_CONFIG: config };
    app = await openApp({ env: { HOOKD_ENV: "test", ...env }, logger: silentLogger });

    // The secrets a receiver accepts per webhook (path): rotations add to them.
    const accepted = new Map<string, string[]>();
    const verdicts: string[] = [];
    receiver = await startReceiver((req, res) => {
      const v = verdict(req, accepted.get(req.path) ?? []);
      verdicts.push(v);
      res.writeHead(v === "ok" ? 200 : 403).end(v);
    });
    const customer = await createCustomer(app.store.db, "acme");
    const ids: string[] = [];
    for (let i = 0; i < WEBHOOKS; i++) {
      const input = { url: `${receiver.url}/h${i}`, group: "orders", action: "created", hash_secret: `secret-${i}` };
      const { row } = await createWebhook(app.store.db, app.keyring, customer.id, input, app.webhookRules);
      ids.push(row.id);
      accepted.set(`/h${i}`, [`secret-${i}`]);
      // Every other one in a rotation's overlap, so previous_secrets is sealed too.
      if (i % 2 === 0) accepted.get(`/h${i}`)!.push((await rotateSecret(app.store.db, app.keyring, row.id, null, {}, 86_400)).secret!);
    }

    const done: Promise<CliResult>[] = [];
    for (let n = 0; n < 2; n++) {
      const port = String(await closedPort());
      const node = spawnCli(["serve"], { ...env, HOOKD_PORT: port });
      nodes.push(node);
      done.push(collect(node));
      await untilServing(`http://127.0.0.1:${port}`);
    }
    let publishing = true;
    let events = 0;
    const publisher = (async () => {
      while (publishing) {
        await publish(app!.store.db, { customerId: customer.id, topic: "orders:created", payload: `{"n":${events}}` }, app!.publishRules);
        events++;
        await sleep(400);
      }
    })();
    while (verdicts.length < WEBHOOKS) await sleep(50);

    // README "Key rotation": the new line first, then rekey; meanwhile a webhook's secret is rotated.
    const line = generateKeyLine("new");
    writeFileSync(keyFile, `${line}\n${old}\n`);
    const before = verdicts.length;
    const rekeying = runCli(["--json", "secrets", "rekey"], env);
    const rotated = await rotateSecret(app.store.db, app.keyring, ids[1]!, null, {}, 86_400);
    accepted.get("/h1")!.push(rotated.secret!);
    const rekey = await rekeying;
    expect(rekey.code, rekey.stderr).toBe(0);
    expect(JSON.parse(rekey.stdout)).toMatchObject({ key: "new", by_key: { new: WEBHOOKS + WEBHOOKS / 2 + 1 }, in_clear: 0, unreadable: {} });
    const during = verdicts.length - before;
    publishing = false;
    await publisher;

    // Everything published is delivered, each request genuine.
    const expected = events * WEBHOOKS;
    for (let i = 0; i < 2400 && verdicts.length < expected; i++) await sleep(50);
    for (const node of nodes) node.kill("SIGTERM");
    for (const result of await Promise.all(done)) {
      expect(result.code).toBe(0);
      expect(result.stderr).not.toContain("not sending");
      for (const secret of [old.split(":")[1]!, line.split(":")[1]!, "secret-1"]) expect(result.stderr).not.toContain(secret);
    }
    nodes.length = 0;
    expect(verdicts.filter((v) => v !== "ok")).toEqual([]);
    expect(verdicts.length).toBe(expected);
    console.log(`rekey beside serve (${kind}): ${expected} deliveries, ${during} of them while the rekey ran`);
    const backlog = await app.store.db.selectFrom("deliveries").select(["status"]).where("status", "!=", "delivered").execute();
    expect(backlog).toEqual([]);

    // The rotation made during the rekey was not overwritten, and every secret is under the new key.
    expect(openWebhookSecrets(app.keyring, await getWebhook(app.store.db, ids[1]!)).secret).toBe(rotated.secret);
    expect(await keyUsage(app.store.db)).toEqual({ byKey: { new: WEBHOOKS + WEBHOOKS / 2 + 1 }, plaintext: 0 });
  });
});
