/**
 * A statement ready to run: SQL text and the values for its placeholders. Its own small
 * module, below the store's connection, statement cache and compiled shapes alike.
 */
/** A shape's SQL with one run's parameters: run it with connect.ts runSteps, or `db.executeQuery(CompiledQuery.raw(sql, parameters))`. */
export interface BoundQuery {
  readonly sql: string;
  readonly parameters: unknown[];
}
