/**
 * A tick makes each webhook's delivery settings once while its columns stay the same
 * (src/dispatch/deliverySettings.ts settingsMemo): a rotated secret, a new header or a
 * changed timeout in a later claim's rows is used at once, and a secret that cannot be
 * opened is refused every time, never served from before.
 */
import { describe, expect, it } from "vitest";
import { settingsMemo, type SettingsColumns } from "../../src/dispatch/deliverySettings.js";
import { generateKeyLine, parseKeyFile, SecretKeyError } from "../../src/domain/secretBox.js";
import { DEFAULT_SETTINGS } from "../../src/store/webhooks.js";

const keyring = parseKeyFile(`${generateKeyLine("k1")}\n`, "test");
const base = {
  timeoutMs: 30_000,
  policy: { maxAttempts: 10, maxAgeSeconds: 86_400, delaysSeconds: [5, 60], retryAfterMaxSeconds: 3_600 },
  maxAttempts: 20,
  maxBatchSize: 100,
  keyring,
};

/** A webhook that set no delivery settings, as createWebhook stores it. */
function row(over: Partial<SettingsColumns> = {}): SettingsColumns {
  return { url: "https://example.com/in", hash_secret: keyring.seal("first-secret"), previous_secrets: null, ...DEFAULT_SETTINGS, ...over };
}

describe("settingsMemo", () => {
  it("gives the same settings for the same columns, and new ones when any column changes", () => {
    const settingsOf = settingsMemo(base);
    const first = row();
    const a = settingsOf("wh1", first);
    expect(a.signing.secret).toBe("first-secret");
    // Another delivery's row of the same webhook: equal columns, so the opened settings are reused.
    expect(settingsOf("wh1", { ...first })).toBe(a);

    const rotated = settingsOf("wh1", row({ hash_secret: keyring.seal("second-secret") }));
    expect(rotated.signing.secret).toBe("second-secret");
    const slower = settingsOf("wh1", row({ hash_secret: first.hash_secret, timeout_ms: 5_000 }));
    expect(slower.timeoutMs).toBe(5_000);
    expect(slower.signing.secret).toBe("first-secret");
    const headed = settingsOf("wh1", row({ hash_secret: first.hash_secret, timeout_ms: 5_000, headers: '{"x-team":"blue"}' }));
    expect(headed.headers).toEqual({ "x-team": "blue" });
    // Webhooks are kept apart even with equal columns.
    expect(settingsOf("wh2", { ...first })).not.toBe(a);
  });

  it("refuses a secret it cannot open every time, even after settings were made for the webhook", () => {
    const settingsOf = settingsMemo(base);
    settingsOf("wh1", row());
    const other = parseKeyFile(`${generateKeyLine("k9")}\n`, "other");
    const foreign = row({ hash_secret: other.seal("sealed elsewhere") });
    expect(() => settingsOf("wh1", foreign)).toThrow(SecretKeyError);
    expect(() => settingsOf("wh1", foreign)).toThrow(SecretKeyError);
  });
});
