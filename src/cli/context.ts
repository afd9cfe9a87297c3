import { InvalidArgumentError, type Command } from "commander";
import { openApp, type App, type SchemaAccess } from "../app.js";
import { loadConfig } from "../config/load.js";
import type { LogLevel } from "../config/schema.js";
import { createLogger } from "../logger.js";
import { notFound } from "../errors.js";
import type { Db } from "../store/connect.js";
import { getCustomer } from "../store/customers.js";
import { explainStoreError } from "../store/connect.js";
import { cliLogLevel } from "./logLevel.js";
import { exitCodeFor, reportError } from "./output.js";

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  logLevel?: LogLevel;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/**
 * Open the app for one command, run it, close it; errors become one line and an exit
 * code. By default a command works on an existing hookd database, bringing its schema
 * up to date; read-only commands pass `schema: "use"` and change nothing; only
 * `migrate` and `serve` may create a database.
 */
export async function withApp(
  cmd: Command,
  fn: (app: App, json: boolean) => Promise<void>,
  options: { schema?: SchemaAccess; daemon?: boolean } = {},
): Promise<void> {
  const { config: configFile, json = false, logLevel } = globals(cmd);
  let app: App | null = null;
  try {
    const config = loadConfig({ configFile });
    const level = cliLogLevel({ flag: logLevel, configured: config.log.level, terminal: process.stderr.isTTY === true, daemon: options.daemon ?? false });
    app = await openApp({ config, logger: createLogger(level), schema: options.schema ?? "upgrade" });
    await fn(app, json);
  } catch (caught) {
    const err = (app && explainStoreError(caught, app.store.location)) ?? caught;
    reportError(err, json);
    process.exitCode = exitCodeFor(err);
  } finally {
    await app?.close();
  }
}

/** For commands that only read: they neither create nor migrate the database. */
export const readOnly = { schema: "use" } as const;

/**
 * A flag taking a whole number from `min` to `max`, in decimal digits: "1e3", "0x10",
 * "Infinity" or a run of digits past the range are usage errors naming the flag, as the
 * API's 400s name the parameter.
 */
export function wholeNumber(name: string, min: number, max: number, unit = "") {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number${unit} from ${min} to ${max}`);
    }
    return n;
  };
}

export function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return wholeNumber(name, 1, max);
}

/** A --customer value: an empty one is a usage error (exit 2), as the API's 400. */
export function customerId(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("--customer must be a customer id, not empty");
  return value;
}

/** A --customer that names no customer is "not found" (exit 1), before anything else is looked at. */
export async function requireCustomer(db: Db, id: string): Promise<void> {
  if (!(await getCustomer(db, id))) throw notFound("customer", id);
}

export function bool(name: string) {
  return (value: string): boolean => {
    if (value === "true") return true;
    if (value === "false") return false;
    throw new InvalidArgumentError(`${name} must be true or false`);
  };
}

export function oneOf<T extends string>(name: string, allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${name} must be one of ${allowed.join(", ")}`);
    }
    return value as T;
  };
}

/** A list page as the API shapes it; the CLI has no base URL, so next/previous are null. */
export function cliPage<T>(results: T[], count: number) {
  return { count, next: null, previous: null, results };
}
