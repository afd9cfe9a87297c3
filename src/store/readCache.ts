/**
 * Reads every request makes and that rarely change (the principal behind an API key, a
 * customer's webhooks on a topic), kept in the process until a change to the tables
 * they come from may have made them stale. A change is heard:
 * - in this process, from the query itself: a Kysely plugin sees every insert, update
 *   or delete of those tables (for webhooks, only updates of the columns a fan-out
 *   reads) and forgets everything once it has run;
 * - from another process on SQLite, by `PRAGMA data_version`, which moves whenever
 *   another connection commits: checked before a use at most once a millisecond, so a
 *   change committed elsewhere is seen by requests from a millisecond later on (inside
 *   a write transaction, which holds the lock, before every use: exactly);
 * - from another process on PostgreSQL, by a notice on channel `hookd_reads` that
 *   triggers send at commit (migration 012), heard on a connection of its own. While
 *   that connection is not listening (starting, the database away) nothing is kept
 *   and every read goes to the database.
 * A read that started before a change is not kept (the generation stamp), so a stale
 * row cannot slip in behind the change that made it stale.
 */
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from "kysely";
import type { Kysely } from "kysely";

/** At most this many entries; past it the cache starts again (keys and fan-outs are few in practice). */
const MAX_ENTRIES = 10_000;

/** The tables cached reads come from; for webhooks, the columns a fan-out reads (a breaker's updates change nothing cached). */
const WATCHED: ReadonlyMap<string, ReadonlySet<string> | null> = new Map([
  ["api_keys", null],
  ["customers", null],
  ["event_types", null],
  ["webhooks", new Set(["id", "customer_id", "topic", "filter", "active", "deleted_at"])],
]);

export interface Look<T> {
  /** the kept value, or undefined: read it, then keep() it with this stamp */
  value: T | undefined;
  stamp: number;
}

export class ReadCache implements KyselyPlugin {
  private readonly entries = new Map<string, unknown>();
  private generation = 0;
  /** queries seen by transformQuery that change what is cached */
  private readonly changing = new WeakSet<object>();

  /**
   * `usable()`: whether kept values may be used now; it may call changed() first (a
   * change elsewhere it has just noticed).
   */
  constructor(private readonly usable: (cache: ReadCache) => boolean) {}

  look<T>(key: string): Look<T> {
    if (!this.usable(this)) return { value: undefined, stamp: -1 };
    return { value: this.entries.get(key) as T | undefined, stamp: this.generation };
  }

  /** Keep `value`, read after look() gave `stamp`, unless something changed in between. */
  keep(key: string, value: unknown, stamp: number): void {
    if (stamp !== this.generation) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, value);
  }

  /** Forget everything: something cached may have changed. */
  changed(): void {
    this.generation++;
    this.entries.clear();
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (changesCached(args.node)) this.changing.add(args.queryId);
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.changing.has(args.queryId)) this.changed();
    return args.result;
  }
}

/** The read cache of the store `db` (or a transaction on it) belongs to, if it has one. */
export function readCacheOf(db: Kysely<any>): ReadCache | undefined {
  for (const p of db.getExecutor().plugins) if (p instanceof ReadCache) return p;
  return undefined;
}

/** Whether the query writes rows a cached read may hold. Pure. */
export function changesCached(node: RootOperationNode): boolean {
  switch (node.kind) {
    case "InsertQueryNode":
      return node.into !== undefined && WATCHED.has(tableName(node.into));
    case "DeleteQueryNode":
      return node.from.froms.some((f) => WATCHED.has(tableName(f)));
    case "UpdateQueryNode": {
      const columns = node.table ? WATCHED.get(tableName(node.table)) : undefined;
      if (columns === undefined) return false;
      if (columns === null) return true;
      return (node.updates ?? []).some((u) => columns.has((u.column as { column?: { name?: string } }).column?.name ?? ""));
    }
    default:
      return false;
  }
}

/** The table a TableNode (or an aliased one) names, or "". */
function tableName(node: object): string {
  const n = node as { kind: string; table?: { identifier?: { name: string } }; node?: object };
  if (n.kind === "AliasNode" && n.node) return tableName(n.node);
  return n.kind === "TableNode" ? (n.table?.identifier?.name ?? "") : "";
}
