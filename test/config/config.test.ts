import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { mergeLayers, validateSettings } from "../../src/config/merge.js";
import { HookdError } from "../../src/errors.js";
import { VERSION } from "../../src/version.js";
import { makePrivateCa } from "../helpers/ca.js";
import pkg from "../../package.json" with { type: "json" };

function configError(fn: () => unknown): HookdError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HookdError);
    expect((err as HookdError).code).toBe("config_invalid");
    return err as HookdError;
  }
  throw new Error("expected a config error");
}

function file(content: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), "hookd-config-"));
  const f = path.join(dir, "custom.json");
  writeFileSync(f, typeof content === "string" ? content : JSON.stringify(content));
  return f;
}

describe("mergeLayers", () => {
  it("merges objects key by key, replaces arrays and scalars, and remembers who set what", () => {
    const merged = mergeLayers([
      { source: "a.json", data: { x: { y: 1, z: [1, 2] }, w: "a" } },
      { source: "b.json", data: { x: { z: [3] }, v: true } },
    ]);
    expect(merged.value).toEqual({ x: { y: 1, z: [3] }, w: "a", v: true });
    expect(merged.origins.get("x.y")).toBe("a.json");
    expect(merged.origins.get("x.z")).toBe("b.json");
  });
});

describe("loadConfig", () => {
  it("differs per environment as SPEC says", () => {
    const production = loadConfig({ env: { HOOKD_ENV: "production" } });
    const sandbox = loadConfig({ env: {} });
    expect(sandbox.env).toBe("sandbox");
    expect(production.dispatch.schedule).toBe("*/30 * * * *");
    expect(sandbox.dispatch.schedule).toBe("*/5 * * * *");
    expect(production.security).toMatchObject({ allowHttp: false, allowPrivateAddresses: false, secretRotationOverlapSeconds: 86400 });
    expect(sandbox.security).toMatchObject({ allowHttp: true, allowPrivateAddresses: true, secretRotationOverlapSeconds: 86400 });
    expect(production.dispatch.timeoutMs).toBe(30_000);
    expect(production.retry.maxAttempts).toBe(10);
    expect(production.db.url).toBe("data/hookd.sqlite");
    expect(Object.isFrozen(production.dispatch)).toBe(true);
  });

  it("applies the user file, then HOOKD_DB and HOOKD_PORT", () => {
    const f = file({ dispatch: { concurrency: 7 }, server: { port: 1 } });
    const c = loadConfig({ env: { HOOKD_CONFIG: f, HOOKD_DB: "/tmp/x.sqlite", HOOKD_PORT: "9999" } });
    expect(c.dispatch.concurrency).toBe(7);
    expect(c.db.url).toBe("/tmp/x.sqlite");
    expect(c.server.port).toBe(9999);
  });

  it("names an unknown key, its file and what is allowed", () => {
    const f = file({ dispatch: { concurency: 3 } });
    const err = configError(() => loadConfig({ env: {}, configFile: f }));
    expect(err.message).toContain('unknown key "dispatch.concurency"');
    expect(err.message).toContain(f);
    expect(err.message).toContain("concurrency");
  });

  it.each([
    [{ dispatch: { concurrency: 0 } }, "dispatch.concurrency", "must be >= 1"],
    [{ dispatch: { schedule: "every minute" } }, "dispatch.schedule", "cron expression"],
    [{ retry: { delaysSeconds: [] } }, "retry.delaysSeconds", "fewer than 1"],
    [{ log: { level: "loud" } }, "log.level", '"info"'],
    [{ security: { allowHttp: "yes" } }, "security.allowHttp", "boolean"],
    [{ security: { secretRotationOverlapSeconds: -1 } }, "security.secretRotationOverlapSeconds", "must be >= 0"],
    [{ security: { encryptionKeyFile: "" } }, "security.encryptionKeyFile", "fewer than 1"],
    [{ security: { encryptionKeyFile: 7 } }, "security.encryptionKeyFile", "string"],
    [{ dispatch: { leaseSeconds: 10, timeoutMs: 30000 } }, "dispatch.leaseSeconds", "longer than dispatch.timeoutMs"],
    [{ console: { brand: { accentColor: "blue" } } }, "console.brand.accentColor", "must match pattern"],
    [{ console: { brand: { accentColor: "#ffcc00" } } }, "console.brand.accentColor", "(#ffcc00 has 1.51:1)"],
    [{ console: { brand: { logoUrl: "http://cdn.example.com/logo.png" } } }, "console.brand.logoUrl", "must be an https:// URL"],
    [{ console: { brand: { logoUrl: "javascript:alert(1)" } } }, "console.brand.logoUrl", "must be an https:// URL"],
    [{ console: { brand: { logoUrl: "data:text/html;base64,PGgxPg==" } } }, "console.brand.logoUrl", "data:image/"],
    [{ console: { brand: { name: "" } } }, "console.brand.name", "fewer than 1"],
    [{ console: { brand: { name: "Acme\u001b[31m" } } }, "console.brand.name", "must match pattern"],
    [{ console: { brand: { colour: "#000" } } }, "console.brand.colour", 'allowed under "console.brand": name, logoUrl, accentColor'],
  ])("rejects %j naming %s", (content, key, allowed) => {
    const f = file(content);
    const err = configError(() => loadConfig({ env: {}, configFile: f }));
    expect(err.details.map((d) => d.field)).toContain(key);
    expect(err.message).toContain(f);
    expect(err.message).toContain(allowed);
  });

  it("rejects a bad HOOKD_PORT, HOOKD_ENV, unreadable JSON and a missing file", () => {
    expect(configError(() => loadConfig({ env: { HOOKD_PORT: "http" } })).message).toContain("HOOKD_PORT");
    expect(configError(() => loadConfig({ env: { HOOKD_ENV: "staging" } })).message).toContain("HOOKD_ENV");
    expect(configError(() => loadConfig({ env: {}, configFile: file("{nope") })).message).toContain("not valid JSON");
    expect(configError(() => loadConfig({ env: {}, configFile: "/nonexistent/hookd.json" })).message).toContain("does not exist");
  });

  it("checks dispatch.caFile at load: a readable file of PEM certificates, kept as an absolute path", () => {
    const missing = file({ dispatch: { caFile: "/nonexistent/ca.pem" } });
    const gone = configError(() => loadConfig({ env: {}, configFile: missing }));
    expect(gone.details.map((d) => d.field)).toEqual(["dispatch.caFile"]);
    expect(gone.message).toContain(missing);
    expect(gone.message).toContain("ENOENT");

    const notPem = file("{}"); // a file, but no certificate in it
    const wrong = configError(() => loadConfig({ env: {}, configFile: file({ dispatch: { caFile: notPem } }) }));
    expect(wrong.message).toContain("holds none");

    const broken = file("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
    expect(configError(() => loadConfig({ env: {}, configFile: file({ dispatch: { caFile: broken } }) })).message).toContain("cannot be parsed");

    const dir = mkdtempSync(path.join(tmpdir(), "hookd-config-ca-"));
    const ca = makePrivateCa(dir);
    const relative = path.relative(process.cwd(), ca.caFile);
    expect(loadConfig({ env: {}, overrides: { dispatch: { caFile: relative } } }).dispatch.caFile).toBe(ca.caFile);
    expect(loadConfig({ env: {} }).dispatch.caFile).toBeNull();
  });

  it("takes a brand for the console: a name, an https or data: logo, a dark enough accent colour", () => {
    expect(loadConfig({ env: {} }).console.brand).toEqual({ name: "hookd", logoUrl: null, accentColor: "#0550ae" });
    const logo = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=";
    const brand = { name: "Acme Webhooks", logoUrl: logo, accentColor: "#7a1fa2" };
    expect(loadConfig({ env: {}, configFile: file({ console: { brand } }) }).console.brand).toEqual(brand);
    const https = { console: { brand: { logoUrl: "https://cdn.example.com/acme.svg" } } };
    expect(loadConfig({ env: {}, configFile: file(https) }).console.brand.logoUrl).toBe("https://cdn.example.com/acme.svg");
  });

  it("validates a merged object directly too", () => {
    const err = configError(() => validateSettings(mergeLayers([{ source: "x.json", data: { server: {} } }])));
    expect(err.details.length).toBeGreaterThan(1);
  });
});

describe("version", () => {
  it("matches package.json", () => expect(VERSION).toBe(pkg.version));
});
