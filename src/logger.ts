import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Logs go to stderr, so stdout stays clean for command output (`--json`); under
 * systemd both land in the journal. Secrets are redacted even if one slips into a
 * logged object.
 */
export function createLogger(level: string, destination: number = 2): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: {
        paths: [
          "hash_secret",
          "*.hash_secret",
          "previous_secrets",
          "*.previous_secrets",
          "secret",
          "*.secret",
          "key",
          "*.key",
          "authorization",
          "*.authorization",
          "headers.authorization",
          "req.headers.authorization",
        ],
        censor: "[redacted]",
      },
    },
    pino.destination({ fd: destination, sync: true }),
  );
}

export const silentLogger: Logger = pino({ level: "silent" });
