/**
 * The delivery settings' secrets at rest: a bearer token, an OAuth2 client secret and
 * Ed25519 private keys (current and kept by a rotation) never reach the disk as text,
 * on both stores (the SQLite file and its WAL, or `pg_dump` of the schema); every value
 * of their columns is sealed under the key file's key, and they still open to sign.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Kysely } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { deliverySettingsOf } from "../../src/dispatch/deliverySettings.js";
import { generateKeyLine, sealedKeyId } from "../../src/domain/secretBox.js";
import { rotateSecret } from "../../src/store/rotation.js";
import { sealedColumnValues } from "../../src/store/sealedColumns.js";
import { createWebhook, getWebhook, updateWebhook } from "../../src/store/webhooks.js";
import { tempDir, testApp, type TestApp } from "../helpers/app.js";
import { backends } from "../helpers/backends.js";
import { diskBytes } from "../helpers/diskBytes.js";

type App = TestApp & { cleanup: () => Promise<void> };
let app: App | undefined;
let keys: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await app?.cleanup();
  keys?.cleanup();
  app = keys = undefined;
});

const SETTINGS_SECRETS = [
  { table: "webhooks", column: "auth_secret" },
  { table: "webhooks", column: "signing_key" },
  { table: "webhooks", column: "previous_signing_keys" },
];

describe.each(backends)("delivery settings' secrets at rest (%s)", (kind) => {
  it("bearer tokens, client secrets and Ed25519 private keys are stored sealed, and open to sign", async () => {
    keys = tempDir("hookd-keys-");
    const keyFile = path.join(keys.dir, "hookd.key");
    writeFileSync(keyFile, `${generateKeyLine("set1")}\n`, { mode: 0o600 });
    app = await testApp({ security: { encryptionKeyFile: keyFile } }, kind);
    const tag = `${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36)}`;
    const url = `http://127.0.0.1:9/at-rest-${tag}`;
    const token = `bearer-${tag}`;
    const clientSecret = `client-${tag}`;

    const { row } = await createWebhook(
      app.store.db,
      app.keyring,
      app.customerId,
      { url, group: "orders", action: "created", auth: { type: "bearer", token }, signing: "ed25519" },
      app.webhookRules,
    );
    const base = { timeoutMs: 10_000, policy: app.config.retry, maxAttempts: 25, maxBatchSize: 100, keyring: app.keyring };
    const first = deliverySettingsOf(await getWebhook(app.store.db, row.id), base);
    expect(first.auth).toEqual({ type: "bearer", token });
    const firstKey = first.signing.signingKey!;
    expect(firstKey).toMatch(/^whsk_/);

    const oauth2 = { type: "oauth2", token_url: "http://127.0.0.1:9/token", client_id: "cid", client_secret: clientSecret };
    await updateWebhook(app.store.db, app.keyring, row.id, null, { auth: oauth2 }, app.webhookRules);
    await rotateSecret(app.store.db, app.keyring, row.id, null, {}, 86_400);
    const now = deliverySettingsOf(await getWebhook(app.store.db, row.id), base);
    expect(now.auth).toMatchObject({ type: "oauth2", clientSecret });
    expect(JSON.parse(now.signing.previousSigningKeys!)[0].secret).toBe(firstKey);

    let sealed = 0;
    for (const where of SETTINGS_SECRETS) {
      for await (const page of sealedColumnValues(app.store.db as Kysely<any>, where)) {
        for (const { value } of page.rows) {
          expect(sealedKeyId(value), where.column).toBe("set1");
          sealed++;
        }
      }
    }
    expect(sealed).toBe(3);
    const bytes = diskBytes(app);
    expect(bytes.includes(url)).toBe(true);
    for (const secret of [token, clientSecret, firstKey, now.signing.signingKey!]) expect(bytes.includes(secret), "a secret is on disk").toBe(false);
  }, 60_000);
});
