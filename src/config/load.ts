import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { parseProxyUrl } from "../domain/proxyUrl.js";
import { HookdError } from "../errors.js";
import { mergeLayers, originOf, validateSettings, type ConfigLayer } from "./merge.js";
import { ENVIRONMENTS, type Config, type Environment, type HookdSettings } from "./schema.js";

/** The shipped config/ folder, beside dist/ (or src/ when run from source). */
export const CONFIG_DIR = fileURLToPath(new URL("../../config/", import.meta.url));

export interface LoadOptions {
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** `--config FILE`; wins over HOOKD_CONFIG. */
  configFile?: string;
  /** Folder holding default.json and <env>.json. */
  configDir?: string;
  /** Extra values applied last (tests, the library). */
  overrides?: unknown;
}

function readJsonFile(file: string, required: boolean): unknown {
  if (!existsSync(file)) {
    if (!required) return undefined;
    throw new HookdError("config_invalid", `config file ${file} does not exist`, [{ field: "--config", message: `config file ${file} does not exist` }]);
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const message = `config file ${file} cannot be read: ${(err as Error).message}`;
    throw new HookdError("config_invalid", message, [{ field: "--config", message }]);
  }
  return parseJson(text, file);
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = `config file ${source} is not valid JSON: ${(err as Error).message}`;
    throw new HookdError("config_invalid", message, [{ field: "(file)", message }]);
  }
}

/**
 * Copies of the shipped files (default.json, <env>.json) carried inside the single
 * binary, which has no config/ folder beside it. Set once at start by the binary.
 */
let embeddedFiles: ReadonlyMap<string, string> | null = null;

export function useEmbeddedConfig(files: ReadonlyMap<string, string>): void {
  embeddedFiles = files;
}

export function resolveEnvironment(env: NodeJS.ProcessEnv): Environment {
  const name = env.HOOKD_ENV ?? "sandbox";
  if (!(ENVIRONMENTS as readonly string[]).includes(name)) {
    const message = `HOOKD_ENV must be one of ${ENVIRONMENTS.join(", ")} (got ${JSON.stringify(name)})`;
    throw new HookdError("config_invalid", message, [{ field: "HOOKD_ENV", message }]);
  }
  return name as Environment;
}

/**
 * default.json, then <env>.json, then HOOKD_CONFIG / --config, then HOOKD_DB,
 * HOOKD_ENCRYPTION_KEY_FILE, HOOKD_PROXY_URL and HOOKD_PORT. Validated once; the result is frozen.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const dir = options.configDir ?? CONFIG_DIR;
  const environment = resolveEnvironment(env);
  const layers: ConfigLayer[] = [];
  const add = (source: string, data: unknown) => {
    if (data !== undefined) layers.push({ source, data });
  };

  // A folder given by the caller wins; otherwise the binary's embedded copies, then config/ on disk.
  const shipped = (name: string, required: boolean) => {
    const text = options.configDir === undefined ? embeddedFiles?.get(name) : undefined;
    if (text !== undefined) {
      const source = `config/${name} (built in)`;
      add(source, parseJson(text, source));
      return;
    }
    const file = path.join(dir, name);
    add(file, readJsonFile(file, required));
  };
  shipped("default.json", true);
  shipped(`${environment}.json`, false);
  const userFile = options.configFile ?? env.HOOKD_CONFIG;
  if (userFile) add(userFile, readJsonFile(path.resolve(userFile), true));
  if (env.HOOKD_DB) add("HOOKD_DB", { db: { url: env.HOOKD_DB } });
  if (env.HOOKD_ENCRYPTION_KEY_FILE) add("HOOKD_ENCRYPTION_KEY_FILE", { security: { encryptionKeyFile: env.HOOKD_ENCRYPTION_KEY_FILE } });
  if (env.HOOKD_PROXY_URL !== undefined) add("HOOKD_PROXY_URL", { dispatch: { proxyUrl: env.HOOKD_PROXY_URL === "" ? null : env.HOOKD_PROXY_URL } });
  if (env.HOOKD_PORT !== undefined && env.HOOKD_PORT !== "") {
    const n = Number(env.HOOKD_PORT);
    add("HOOKD_PORT", { server: { port: /^\d+$/.test(env.HOOKD_PORT) ? n : env.HOOKD_PORT } });
  }
  if (options.overrides !== undefined) add("(overrides)", options.overrides);

  const merged = mergeLayers(layers);
  const settings = validateSettings(merged);
  settings.dispatch.caFile = checkedCaFile(settings, merged.origins);
  checkProxyUrl(settings, merged.origins);
  // Relative to the working directory, like db.url; read when a command opens the store (config/keyFile.ts).
  if (settings.security.encryptionKeyFile) settings.security.encryptionKeyFile = path.resolve(settings.security.encryptionKeyFile);
  return deepFreeze({ env: environment, ...settings });
}

/** `dispatch.proxyUrl` must be an http:// proxy URL, checked at start so a typo stops hookd instead of failing every delivery. */
function checkProxyUrl(settings: HookdSettings, origins: Map<string, string>): void {
  const given = settings.dispatch.proxyUrl ?? null;
  if (given === null) return;
  try {
    parseProxyUrl(given);
  } catch (err) {
    // The URL may carry the proxy's password: the message names the key and the problem, not the value.
    const message = `"dispatch.proxyUrl" in ${originOf(origins, "dispatch.proxyUrl")} ${(err as Error).message}`;
    throw new HookdError("config_invalid", message, [{ field: "dispatch.proxyUrl", message }]);
  }
}

/**
 * `dispatch.caFile` must be a readable file of PEM certificates, checked at start so a
 * typo stops hookd instead of failing every https delivery. Returns its absolute path
 * (relative paths are from the working directory, like db.url).
 */
function checkedCaFile(settings: HookdSettings, origins: Map<string, string>): string | null {
  const given = settings.dispatch.caFile ?? null;
  if (given === null) return null;
  const file = path.resolve(given);
  const fail = (problem: string): never => {
    const message = `"dispatch.caFile" in ${originOf(origins, "dispatch.caFile")} ${problem} (got ${JSON.stringify(given)})`;
    throw new HookdError("config_invalid", message, [{ field: "dispatch.caFile", message }]);
  };
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    fail(`must be a readable file of PEM certificates: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} for ${file}`);
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) fail(`must hold PEM certificates ("-----BEGIN CERTIFICATE-----"); ${file} holds none`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      fail(`holds a certificate that cannot be parsed: ${(err as Error).message}`);
    }
  }
  return file;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === "object" && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
