/**
 * Payload filters (`filter`): a small JSON match language, checked when a webhook is
 * saved and evaluated when an event is published. Pure.
 *
 * A filter is an object; every entry must hold:
 * - `"a.b.0.c": V` — the payload's value at that dot path (a number segment indexes
 *   an array) deep-equals V (a JSON value; an object without `$` keys is a value too);
 * - `"path": {"$op": arg, …}` — every operator holds: `$eq`, `$ne` (any JSON value),
 *   `$gt`, `$gte`, `$lt`, `$lte` (a number or a string; both sides of one type),
 *   `$in`, `$nin` (an array of values), `$exists` (boolean), `$prefix` (a string);
 * - `"$and": [F, …]`, `"$or": [F, …]` (non-empty lists), `"$not": F` combine filters.
 * A path missing from the payload does not match, except under `$exists: false`,
 * `$ne` and `$nin`. At most MAX_FILTER_BYTES of JSON and MAX_FILTER_DEPTH levels of
 * filters within filters.
 */

export const MAX_FILTER_BYTES = 4096;
export const MAX_FILTER_DEPTH = 8;

export type Matcher = (payload: unknown) => boolean;

export interface FilterProblem {
  /** where in the filter, e.g. `filter.$or[1]["order.total"].$gt` */
  place: string;
  message: string;
}

const COMPARISONS = new Set(["$gt", "$gte", "$lt", "$lte"]);
const OPERATORS = new Set(["$eq", "$ne", ...COMPARISONS, "$in", "$nin", "$exists", "$prefix"]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isOperatorObject = (v: unknown): v is Record<string, unknown> => isObject(v) && Object.keys(v).some((k) => k.startsWith("$"));

/** Every problem with `filter` (none: it may be saved), each naming its place. */
export function filterProblems(filter: unknown, root = "filter"): FilterProblem[] {
  if (!isObject(filter)) return [{ place: root, message: "must be a JSON object (or null for no filter)" }];
  const bytes = Buffer.byteLength(JSON.stringify(filter));
  if (bytes > MAX_FILTER_BYTES) return [{ place: root, message: `must be at most ${MAX_FILTER_BYTES} bytes of JSON (got ${bytes})` }];
  const problems: FilterProblem[] = [];
  checkFilter(filter, root, 1, problems);
  return problems;
}

function checkFilter(filter: Record<string, unknown>, place: string, depth: number, problems: FilterProblem[]): void {
  if (depth > MAX_FILTER_DEPTH) {
    problems.push({ place, message: `nests filters deeper than ${MAX_FILTER_DEPTH} levels` });
    return;
  }
  for (const [key, value] of Object.entries(filter)) {
    if (key === "$and" || key === "$or") {
      const at = `${place}.${key}`;
      if (!Array.isArray(value) || value.length === 0) problems.push({ place: at, message: "must be a non-empty list of filters" });
      else
        value.forEach((f, i) => {
          if (isObject(f)) checkFilter(f, `${at}[${i}]`, depth + 1, problems);
          else problems.push({ place: `${at}[${i}]`, message: "must be a filter (a JSON object)" });
        });
    } else if (key === "$not") {
      if (isObject(value)) checkFilter(value, `${place}.$not`, depth + 1, problems);
      else problems.push({ place: `${place}.$not`, message: "must be a filter (a JSON object)" });
    } else if (key.startsWith("$")) {
      problems.push({ place: `${place}.${key}`, message: `is not an operator here: a filter's keys are payload paths, $and, $or or $not` });
    } else {
      const at = `${place}[${JSON.stringify(key)}]`;
      const pathProblem = key.split(".").some((s) => s === "") ? "is not a valid path: dot-separated names, none empty (e.g. order.items.0.sku)" : null;
      if (pathProblem) problems.push({ place: at, message: pathProblem });
      else if (isOperatorObject(value)) checkOperators(value, at, problems);
    }
  }
}

function checkOperators(ops: Record<string, unknown>, place: string, problems: FilterProblem[]): void {
  for (const [op, arg] of Object.entries(ops)) {
    const at = `${place}.${op}`;
    if (!op.startsWith("$")) {
      problems.push({ place: at, message: "mixes a field with operators: an object with $ keys holds operators only" });
    } else if (!OPERATORS.has(op)) {
      problems.push({ place: at, message: `is not a known operator (${[...OPERATORS].join(", ")})` });
    } else if (COMPARISONS.has(op) && typeof arg !== "number" && typeof arg !== "string") {
      problems.push({ place: at, message: "must be a number or a string" });
    } else if ((op === "$in" || op === "$nin") && !Array.isArray(arg)) {
      problems.push({ place: at, message: "must be a list of values" });
    } else if (op === "$exists" && typeof arg !== "boolean") {
      problems.push({ place: at, message: "must be true or false" });
    } else if (op === "$prefix" && typeof arg !== "string") {
      problems.push({ place: at, message: "must be a string" });
    }
  }
}

/** JSON deep equality (object keys in any order). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao);
  return keys.length === Object.keys(bo).length && keys.every((k) => Object.hasOwn(bo, k) && deepEqual(ao[k], bo[k]));
}

const MISSING = Symbol("missing");

/** The payload's value at `segments`, or MISSING. */
function resolve(payload: unknown, segments: readonly string[]): unknown {
  let at: unknown = payload;
  for (const s of segments) {
    if (Array.isArray(at)) {
      if (!/^\d+$/.test(s) || Number(s) >= at.length) return MISSING;
      at = at[Number(s)];
    } else if (isObject(at) && Object.hasOwn(at, s)) at = at[s];
    else return MISSING;
  }
  return at;
}

function compare(op: string, value: unknown, arg: number | string): boolean {
  if (typeof value !== typeof arg) return false;
  const v = value as number | string;
  if (op === "$gt") return v > arg;
  if (op === "$gte") return v >= arg;
  if (op === "$lt") return v < arg;
  return v <= arg;
}

function compileOperator(op: string, arg: unknown): (value: unknown) => boolean {
  switch (op) {
    case "$eq":
      return (v) => v !== MISSING && deepEqual(v, arg);
    case "$ne":
      return (v) => v === MISSING || !deepEqual(v, arg);
    case "$in":
      return (v) => v !== MISSING && (arg as unknown[]).some((a) => deepEqual(v, a));
    case "$nin":
      return (v) => v === MISSING || !(arg as unknown[]).some((a) => deepEqual(v, a));
    case "$exists":
      return (v) => (v !== MISSING) === arg;
    case "$prefix":
      return (v) => typeof v === "string" && v.startsWith(arg as string);
    default:
      return (v) => v !== MISSING && compare(op, v, arg as number | string);
  }
}

/** A filter that `filterProblems` accepted → a function of the parsed payload. */
export function compileFilter(filter: Record<string, unknown>): Matcher {
  const parts: Matcher[] = Object.entries(filter).map(([key, value]): Matcher => {
    if (key === "$and") {
      const all = (value as Record<string, unknown>[]).map(compileFilter);
      return (p) => all.every((m) => m(p));
    }
    if (key === "$or") {
      const any = (value as Record<string, unknown>[]).map(compileFilter);
      return (p) => any.some((m) => m(p));
    }
    if (key === "$not") {
      const inner = compileFilter(value as Record<string, unknown>);
      return (p) => !inner(p);
    }
    const segments = key.split(".");
    if (isOperatorObject(value)) {
      const ops = Object.entries(value).map(([op, arg]) => compileOperator(op, arg));
      return (p) => {
        const v = resolve(p, segments);
        return ops.every((test) => test(v));
      };
    }
    return (p) => {
      const v = resolve(p, segments);
      return v !== MISSING && deepEqual(v, value);
    };
  });
  return (p) => parts.every((m) => m(p));
}

/** Compiled filters by their stored text: publishing meets the same few filters over and over. */
const compiled = new Map<string, Matcher>();
const MAX_COMPILED = 1000;

/** The matcher for a stored filter (the `webhooks.filter` column), compiled once. */
export function matcherOf(column: string): Matcher {
  let m = compiled.get(column);
  if (!m) {
    m = compileFilter(JSON.parse(column) as Record<string, unknown>);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(column, m);
  }
  return m;
}
