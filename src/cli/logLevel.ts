/**
 * How much a CLI command logs. Logs go to stderr as pino JSON lines, which is what a
 * journal or a cron mail wants; on a terminal they would sit beside the progress bar
 * and the summary that already say what happened. So on a terminal a one-shot command
 * logs only what went wrong (warn and worse) unless asked for more: `--log-level`, or a
 * `log.level` of debug or trace. Daemons (`serve`) and pipes keep `log.level` as it is.
 * Pure: whether stderr is a terminal is passed in.
 */
import type { LogLevel } from "../config/schema.js";

/** Most to least severe (silent first: nothing at all). */
const ORDER: readonly LogLevel[] = ["silent", "fatal", "error", "warn", "info", "debug", "trace"];
const severity = (l: LogLevel) => ORDER.indexOf(l);

export interface LogLevelInput {
  /** `--log-level`, when given: it always wins */
  flag?: LogLevel;
  /** `log.level` from the config */
  configured: LogLevel;
  /** stderr is a terminal */
  terminal: boolean;
  /** a long-running command whose logs are its output */
  daemon: boolean;
}

export function cliLogLevel(o: LogLevelInput): LogLevel {
  if (o.flag !== undefined) return o.flag;
  if (!o.terminal || o.daemon) return o.configured;
  // debug and trace are a request for more; anything down to info is the default's business.
  return severity(o.configured) < severity("warn") || severity(o.configured) > severity("info") ? o.configured : "warn";
}
