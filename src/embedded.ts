/**
 * The single binary (Node's single executable application) has no node_modules or
 * config/ beside it: the SQLite addon, the shipped config files and the console travel inside it as
 * SEA assets. `src/build/singleBinary.ts` puts them there; this reads them back.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { getAsset } from "node:sea";
import { useEmbeddedConfig } from "./config/load.js";
import { CONSOLE_FILES, consoleAsset, useEmbeddedConsole } from "./console/assets.js";
import { ENVIRONMENTS } from "./config/schema.js";
import { HookdError } from "./errors.js";
import { useSqliteAddon } from "./store/connect.js";

export const ADDON_ASSET = "better_sqlite3.node";
/** default.json and one file per environment, as in config/. */
export const CONFIG_FILES: readonly string[] = ["default.json", ...ENVIRONMENTS.map((e) => `${e}.json`)];
export const configAsset = (name: string): string => `config/${name}`;

/** Point the config loader and the store at the embedded copies. */
export function installEmbedded(): void {
  const files = new Map<string, string>();
  for (const name of CONFIG_FILES) {
    const text = assetText(configAsset(name));
    if (text !== undefined) files.set(name, text);
  }
  useEmbeddedConfig(files);
  const ui = new Map<string, string>();
  for (const name of CONSOLE_FILES) {
    const text = assetText(consoleAsset(name));
    if (text !== undefined) ui.set(name, text);
  }
  useEmbeddedConsole(ui);
  useSqliteAddon(loadAddon);
}

function assetText(key: string): string | undefined {
  try {
    return getAsset(key, "utf8");
  } catch {
    return undefined; // not embedded (an environment without its own file)
  }
}

/**
 * A native addon can only be loaded from a file. Write it to a fresh private folder,
 * load it, and remove the folder at once: the loaded code stays mapped, and no file is
 * left behind for another user to swap between runs.
 */
function loadAddon(): object {
  const dir = mkdtempSync(path.join(tmpdir(), "hookd-"));
  const file = path.join(dir, ADDON_ASSET);
  try {
    writeFileSync(file, new Uint8Array(getAsset(ADDON_ASSET)), { mode: 0o700 });
    const module = { exports: {} };
    process.dlopen(module, file);
    return module.exports;
  } catch (err) {
    throw new HookdError(
      "store_unavailable",
      `cannot load the built-in SQLite addon from ${dir} (${(err as Error).message}); set TMPDIR to a writable folder that allows executing files`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
