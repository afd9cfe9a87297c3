/**
 * Whether this Node.js can run better-sqlite3 without aborting. From 24.19.0 Node 24's
 * `node::ObjectWrap` (compiled into the addon) removes a cleanup hook in its destructor
 * with a CHECK that a current Environment exists; until 24.22.0 a garbage collection
 * that starts with no context entered (inside WebAssembly, such as fetch's HTTP parser)
 * then aborts the whole process as it finalises a statement: "Assertion failed: (env)
 * != nullptr". package.json's engines leave these versions out, but npm only warns, so
 * opening a SQLite store on one is refused with a clear message instead of a crash at
 * some later collection. Pure.
 */

/** [first affected, first fixed] */
const ABORTING: readonly [readonly [number, number, number], readonly [number, number, number]] = [
  [24, 19, 0],
  [24, 22, 0],
];

const parse = (version: string): [number, number, number] => {
  const [major = 0, minor = 0, patch = 0] = version
    .replace(/^v/, "")
    .split(".")
    .map((n) => Number.parseInt(n, 10));
  return [major, minor, patch];
};

const compare = (a: readonly number[], b: readonly number[]): number => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;

/** Why SQLite cannot be used on Node `version` (e.g. "24.21.0"), or null when it can. */
export function sqliteRuntimeProblem(version: string): string | null {
  const v = parse(version);
  const [from, fixed] = ABORTING;
  if (compare(v, from) < 0 || compare(v, fixed) >= 0) return null;
  return (
    `Node.js ${version} can abort the process in a garbage collection while the SQLite store is open ` +
    `(better-sqlite3 on Node ${from.join(".")} to ${fixed[0]}.${fixed[1] - 1}.x: "Assertion failed: (env) != nullptr"); ` +
    `use Node.js ${fixed.join(".")} or later, 22 or 20, or the single binary`
  );
}
