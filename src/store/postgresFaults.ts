/**
 * PostgreSQL failures in words an operator can act on. The driver says
 * `connect ECONNREFUSED 127.0.0.1:5999` or `permission denied for table events`;
 * hookd says it is the database, which one, and what to check. Pure: the error and
 * the database's location (a URL without its password) in, a message out.
 */

/** What went wrong, as far as an operator is concerned. */
export type PostgresFault =
  | "unreachable"
  | "credentials"
  | "missing_database"
  | "rights"
  | "no_schema"
  | "shutting_down"
  | "too_many_connections"
  | "statement_timeout"
  | "not_answering"
  | "read_only";

/**
 * The code hookd gives a statement the server did not answer in time (postgresPool.ts):
 * a paused or cut-off server cannot cancel it with its own statement_timeout.
 */
export const NO_ANSWER = "HOOKD_NO_ANSWER";

/** Node socket errors raised while connecting. */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EPIPE"]);

/** pg's own messages for a connection that never came up or went away (no code attached). */
const LOST_CONNECTION =
  /^(Connection terminated|timeout expired|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|Query read timeout)/i;

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  // Node reports a refused dual-stack connect as an AggregateError of per-address errors.
  const inner = (err as { errors?: unknown[] } | null)?.errors?.[0];
  return inner === undefined ? undefined : codeOf(inner);
}

/** The fault `err` is, or null when it is not a database-availability problem (e.g. a bug in a query). */
export function classifyPostgresError(err: unknown): PostgresFault | null {
  const code = codeOf(err);
  if (code === NO_ANSWER) return "not_answering";
  if (code !== undefined && NETWORK_CODES.has(code)) return "unreachable";
  if (code === undefined) return err instanceof Error && LOST_CONNECTION.test(err.message) ? "unreachable" : null;
  // SQLSTATE codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
  if (code === "28P01" || code === "28000") return "credentials";
  if (code === "3D000") return "missing_database";
  if (code === "42501") return "rights";
  if (code === "42P01" || code === "3F000") return "no_schema";
  if (code === "57014") return "statement_timeout";
  if (code === "53300") return "too_many_connections";
  if (code === "25006") return "read_only";
  if (code.startsWith("57P")) return "shutting_down";
  if (code.startsWith("08")) return "unreachable";
  return null;
}

/** The user and database name in a postgres:// URL, for messages. */
function partsOf(location: string): { user: string; database: string } {
  try {
    const url = new URL(location);
    return { user: decodeURIComponent(url.username) || "(default)", database: decodeURIComponent(url.pathname.slice(1)) || "(default)" };
  } catch {
    return { user: "(unknown)", database: "(unknown)" };
  }
}

export function describePostgresFault(fault: PostgresFault, err: unknown, location: string): string {
  const { user, database } = partsOf(location);
  const said = err instanceof Error && err.message ? ` (${err.message})` : "";
  switch (fault) {
    case "unreachable":
      return `cannot reach the PostgreSQL database ${location}${said}: check that PostgreSQL is running and that the host and port in HOOKD_DB / db.url are right`;
    case "credentials":
      return `PostgreSQL refused to let user ${user} into ${location}${said}: check the user and password in HOOKD_DB / db.url, and pg_hba.conf`;
    case "missing_database":
      return `the PostgreSQL database ${database} does not exist at ${location}: check the name in HOOKD_DB / db.url, or create it (createdb ${database})`;
    case "rights":
      return `user ${user} lacks rights on the PostgreSQL database ${location}${said}: grant it USAGE on hookd's schema and SELECT, INSERT, UPDATE, DELETE on its tables (see the README, "Scaling out")`;
    case "no_schema":
      return `the PostgreSQL database ${location} has no hookd tables in its search_path${said}: check the schema (search_path) in HOOKD_DB / db.url, or run \`hookd migrate\``;
    case "shutting_down":
      return `the PostgreSQL database ${location} is shutting down, starting up or was dropped${said}: check the server, then try again`;
    case "too_many_connections":
      return `the PostgreSQL server at ${location} has no connections left${said}: lower db.poolSize on each hookd process, or raise max_connections`;
    case "statement_timeout":
      return `a statement on the PostgreSQL database ${location} ran longer than db.statementTimeoutMs and was cancelled; nothing was changed: check the server's load, or raise the timeout`;
    case "read_only":
      return `the PostgreSQL database ${location} refuses writes${said}: it is a standby or read-only; point HOOKD_DB / db.url at the primary (after a failover, the new one)`;
    case "not_answering":
      return `the PostgreSQL database ${location} stopped answering${said}: check that the server is not paused, overloaded or cut off from this machine`;
  }
}
