/** PostgreSQL failures in words (pure), and the PostgreSQL settings on a real server. */
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { HookdError } from "../../src/errors.js";
import { explainStoreError, withoutPassword } from "../../src/store/connect.js";
import { NoAnswerError } from "../../src/store/outage.js";
import { classifyPostgresError, describePostgresFault } from "../../src/store/postgresFaults.js";
import { testApp } from "../helpers/app.js";

const pgError = (code: string, message = "boom") => Object.assign(new Error(message), { code });
const refused = Object.assign(new AggregateError([Object.assign(new Error("connect ECONNREFUSED ::1:5999"), { code: "ECONNREFUSED" })], ""), {});

describe("classifyPostgresError", () => {
  it.each([
    [Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5999"), { code: "ECONNREFUSED" }), "unreachable"],
    [refused, "unreachable"],
    [new Error("Connection terminated unexpectedly"), "unreachable"],
    [new Error("timeout expired"), "unreachable"],
    [pgError("08006"), "unreachable"],
    [pgError("28P01"), "credentials"],
    [pgError("28000"), "credentials"],
    [pgError("3D000"), "missing_database"],
    [pgError("42501"), "rights"],
    [pgError("42P01"), "no_schema"],
    [pgError("57P01"), "shutting_down"],
    [pgError("53300"), "too_many_connections"],
    [pgError("57014"), "statement_timeout"],
    [pgError("25006", "cannot execute INSERT in a read-only transaction"), "read_only"],
    [new Error("timeout exceeded when trying to connect"), "unreachable"],
    [new NoAnswerError(2000), "not_answering"],
    // A bug, not the database's availability: left to the generic handler.
    [pgError("23505"), null],
    [pgError("42601"), null],
    [new Error("something else"), null],
  ] as const)("%s → %s", (err, fault) => {
    expect(classifyPostgresError(err)).toBe(fault);
  });

  it("names the user and the database in what it says", () => {
    const url = "postgres://app@db.internal:5432/orders";
    expect(describePostgresFault("missing_database", pgError("3D000"), url)).toContain(
      "the PostgreSQL database orders does not exist at postgres://app@db.internal:5432/orders",
    );
    expect(describePostgresFault("rights", pgError("42501", "permission denied for table events"), url)).toMatch(
      /^user app lacks rights on the PostgreSQL database postgres:\/\/app@db.internal:5432\/orders \(permission denied for table events\)/,
    );
    expect(describePostgresFault("read_only", pgError("25006"), url)).toMatch(/refuses writes .*point HOOKD_DB \/ db.url at the primary/);
    expect(describePostgresFault("not_answering", new NoAnswerError(35_000), url)).toBe(
      "the PostgreSQL database postgres://app@db.internal:5432/orders stopped answering (no answer within 35000 ms): check that the server is not paused, overloaded or cut off from this machine",
    );
  });

  it("keeps passwords out of locations", () => {
    expect(withoutPassword("postgres://app:s3cret@db:5432/x?options=-c%20search_path%3Dy")).toBe("postgres://app@db:5432/x?options=-c%20search_path%3Dy");
    expect(withoutPassword("postgres://app@db/x?password=s3cret&sslmode=verify-full")).toBe("postgres://app@db/x?sslmode=verify-full");
    expect(explainStoreError(pgError("28P01"), withoutPassword("postgres://app:s3cret@db/x"))?.message).not.toContain("s3cret");
  });
});

describe("PostgreSQL settings", () => {
  let app: Awaited<ReturnType<typeof testApp>> | undefined;
  afterEach(async () => app?.cleanup());

  it("applies db.statementTimeoutMs on the server: a longer statement is cancelled and explained", async () => {
    app = await testApp({ db: { statementTimeoutMs: 300, poolSize: 2 } }, "postgres");
    const shown = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(app.store.db);
    expect(shown.rows[0]!.statement_timeout).toBe("300ms");
    const err = await sql`select pg_sleep(5)`.execute(app.store.db).then(
      () => null,
      (e: unknown) => e,
    );
    const explained = explainStoreError(err, app.store.location);
    expect(explained).toBeInstanceOf(HookdError);
    expect(explained!.message).toContain("ran longer than db.statementTimeoutMs and was cancelled");
  });
});
