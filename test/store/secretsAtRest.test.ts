/**
 * What reaches the disk never holds a secret's text: a webhook's secret set on create,
 * replaced on update, rotated (the previous secrets too), or brought in by an import of
 * an older hookd's export that carried them in clear. Read back as raw bytes: the
 * SQLite file and its WAL, or `pg_dump` of the test's schema. Every column of
 * SEALED_COLUMNS holds sealed text, and the secrets still open for signing.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Kysely } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { generateKeyLine, sealedKeyId } from "../../src/domain/secretBox.js";
import { exportStore } from "../../src/store/exportStore.js";
import { importStore } from "../../src/store/importStore.js";
import { rotateSecret } from "../../src/store/rotation.js";
import { openWebhookSecrets, SEALED_COLUMNS, sealedColumnValues } from "../../src/store/sealedColumns.js";
import { createWebhook, getWebhook, updateWebhook } from "../../src/store/webhooks.js";
import { tempDir, testApp, type TestApp } from "../helpers/app.js";
import { backends } from "../helpers/backends.js";
import { diskBytes } from "../helpers/diskBytes.js";

type App = TestApp & { cleanup: () => Promise<void> };
const apps: App[] = [];
let keys: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  for (const app of apps.splice(0)) await app.cleanup();
  keys?.cleanup();
  keys = undefined;
});

/** Two stores sharing one key file, as a move from one machine to another with the same key. */
async function open(kind: (typeof backends)[number]): Promise<App> {
  if (!keys) {
    keys = tempDir("hookd-keys-");
    writeFileSync(path.join(keys.dir, "hookd.key"), `${generateKeyLine("rest1")}\n`, { mode: 0o600 });
  }
  const app = await testApp({ security: { encryptionKeyFile: path.join(keys.dir, "hookd.key") } }, kind);
  apps.push(app);
  return app;
}

function expectAbsent(bytes: Buffer, secrets: string[], present: string): void {
  // The bytes are the right ones: what is not secret is there to be found.
  expect(bytes.includes(present)).toBe(true);
  for (const secret of secrets) expect(bytes.includes(secret), `${secret} is on disk`).toBe(false);
}

/** Every value of every sealed column is sealed text under `keyId`. */
async function expectAllSealed(app: App, keyId: string): Promise<number> {
  let n = 0;
  for (const where of SEALED_COLUMNS) {
    for await (const page of sealedColumnValues(app.store.db as Kysely<any>, where)) {
      for (const { value } of page.rows) {
        expect(sealedKeyId(value), `${where.table}.${where.column}`).toBe(keyId);
        n++;
      }
    }
  }
  return n;
}

const canary = () => `${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36)}`;

describe.each(backends)("secrets at rest (%s)", (kind) => {
  it("create, update, rotate (previous secrets too) and import never put a secret's text on disk", async () => {
    const app = await open(kind);
    const tag = canary();
    const url = `http://127.0.0.1:9/rest-${tag}`;
    const s = { created: `created-${tag}`, updated: `updated-${tag}`, rotated: `rotated-${tag}`, imported: `imported-${tag}` };

    const { row, secret } = await createWebhook(
      app.store.db,
      app.keyring,
      app.customerId,
      { url, group: "orders", action: "created", hash_secret: s.created },
      app.webhookRules,
    );
    expect(secret).toBe(s.created);
    expectAbsent(diskBytes(app), [s.created], url);

    await updateWebhook(app.store.db, app.keyring, row.id, null, { hash_secret: s.updated }, app.webhookRules);
    await rotateSecret(app.store.db, app.keyring, row.id, null, { hash_secret: s.rotated }, 86_400);
    const generated = (await rotateSecret(app.store.db, app.keyring, row.id, null, {}, 86_400)).secret!;
    // The secrets are all still there, sealed: the newest current, the two before it kept for the overlap.
    const opened = openWebhookSecrets(app.keyring, await getWebhook(app.store.db, row.id));
    expect(opened.secret).toBe(generated);
    expect(JSON.parse(opened.previousSecrets!).map((p: { secret: string }) => p.secret)).toEqual([s.rotated, s.updated]);
    expect(await expectAllSealed(app, "rest1")).toBe(2);
    const written = [s.created, s.updated, s.rotated, generated];
    expectAbsent(diskBytes(app), written, url);

    // An export from before secrets were sealed carries them in clear: import seals them on the way in.
    const lines: string[] = [];
    await exportStore(app.store.db, { write: (line) => void lines.push(line) });
    const older = lines.map((line) => {
      const parsed = JSON.parse(line);
      if (parsed.table !== "webhooks") return line;
      return JSON.stringify({ ...parsed, row: { ...parsed.row, hash_secret: s.imported, previous_secrets: null } });
    });
    expect(older.join("\n")).toContain(s.imported);
    const target = await open(kind);
    await target.store.db.deleteFrom("customers").execute(); // the helper's customer: import fills an empty store
    await importStore(target.store.db, toLines(older), { location: target.store.location, keyring: target.keyring });
    expect(openWebhookSecrets(target.keyring, await getWebhook(target.store.db, row.id)).secret).toBe(s.imported);
    expect(await expectAllSealed(target, "rest1")).toBe(1);
    expectAbsent(diskBytes(target), [...written, s.imported], url);

    if (kind === "sqlite") {
      // Once checkpointed into the database file too, after the process is gone.
      await app.close();
      await target.close();
      expect(existsSync(`${app.dbFile}-wal`)).toBe(false);
      expectAbsent(readFileSync(app.dbFile), written, url);
      expectAbsent(readFileSync(target.dbFile), [...written, s.imported], url);
    }
  }, 60_000);
});

async function* toLines(lines: string[]): AsyncGenerator<string> {
  yield* lines;
}
