/**
 * config/systemd/hookd.service: the keys the operator relies on, and, where
 * systemd-analyze is installed, systemd's own reading of the unit (any warning fails).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { tempDir } from "../helpers/app.js";

const unitFile = fileURLToPath(new URL("../../config/systemd/hookd.service", import.meta.url));
const text = readFileSync(unitFile, "utf8");

/** key → every value it is given, per section. */
function parseUnit(source: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of source.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf("=");
    const key = line.slice(0, eq);
    current!.set(key, [...(current!.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

const service = parseUnit(text).get("Service")!;
const one = (key: string) => service.get(key)?.at(-1);
const environment = new Map((service.get("Environment") ?? []).map((e) => e.split("=", 2) as [string, string]));

const hasAnalyze = spawnSync("systemd-analyze", ["--version"], { stdio: "ignore" }).status === 0;
const dir = tempDir("hookd-unit-");
afterAll(() => dir.cleanup());

describe("the systemd unit", () => {
  it("runs hookd serve in production with its database in the state directory", () => {
    expect(one("ExecStart")).toMatch(/\/hookd serve$/);
    expect(environment.get("HOOKD_ENV")).toBe("production");
    expect(one("StateDirectory")).toBe("hookd");
    expect(environment.get("HOOKD_DB")).toBe("/var/lib/hookd/hookd.sqlite");
  });

  it("restarts on failure and stops with SIGTERM, waiting longer than the drain", () => {
    expect(one("Restart")).toBe("on-failure");
    expect(one("KillSignal")).toBe("SIGTERM");
    const stopSeconds = Number(/^(\d+)s?$/.exec(one("TimeoutStopSec") ?? "")?.[1]);
    const production = loadConfig({ env: { HOOKD_ENV: "production" } });
    expect(stopSeconds * 1000).toBeGreaterThan(production.dispatch.shutdownGraceMs);
  });

  it("passes the key file as the credential hookd.key, from a root-only file", () => {
    // hookd reads $CREDENTIALS_DIRECTORY/hookd.key (config/keyFile.ts); production exits 2 without a key.
    expect(service.get("LoadCredential")).toEqual(["hookd.key:/etc/hookd/hookd.key"]);
    expect(text).toContain("generate-key | sudo install -m 0600 /dev/stdin /etc/hookd/hookd.key");
  });

  it("is sandboxed and runs as a dedicated user", () => {
    expect(one("NoNewPrivileges")).toBe("yes");
    expect(one("ProtectSystem")).toBe("strict");
    expect(one("ProtectHome")).toBe("yes");
    expect(one("PrivateTmp")).toBe("yes");
    expect(one("DynamicUser") === "yes" || (one("User") ?? "root") !== "root").toBe(true);
  });

  it.skipIf(!hasAnalyze)("passes systemd-analyze verify without a warning", () => {
    // verify checks that ExecStart exists: point it at an executable this machine has.
    const copy = path.join(dir.dir, "hookd.service");
    writeFileSync(copy, text.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
    const r = spawnSync("systemd-analyze", ["verify", copy], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
