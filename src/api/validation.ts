/**
 * Request validation with JSON schema (ajv). Bodies are checked as sent (no type
 * coercion, no silently dropped fields); query strings are text, so numbers and
 * booleans there are coerced and defaults filled in. Every error names its field.
 */
import { Ajv, type ErrorObject } from "ajv";
import type { FastifySchemaCompiler } from "fastify";
import type { ErrorDetail } from "../errors.js";
import { numericProperties, queryNumberErrors } from "./queryNumbers.js";

const common = { allErrors: true, verbose: true, removeAdditional: false } as const;
const bodyAjv = new Ajv({ ...common, coerceTypes: false, useDefaults: false });
const queryAjv = new Ajv({ ...common, coerceTypes: true, useDefaults: true });

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/**
 * A query-string validator whose numbers are read strictly (see queryNumbers.ts)
 * before ajv coerces the rest. With a bad number, the other parameters are still
 * checked (on a copy without it), so one answer names every bad parameter.
 */
function compileQuery(schema: object): Validate {
  const validate = queryAjv.compile(schema);
  const numbers = numericProperties(schema);
  if (numbers.size === 0) return validate;
  const check: Validate = (data) => {
    const bad = queryNumberErrors(numbers, data);
    if (bad.length === 0) {
      const ok = validate(data);
      check.errors = validate.errors;
      return ok;
    }
    const rest = { ...(data as Record<string, unknown>) };
    for (const e of bad) delete rest[e.instancePath.slice(1)];
    validate(rest);
    check.errors = [...bad, ...(validate.errors ?? [])];
    return false;
  };
  return check;
}

export const validatorCompiler: FastifySchemaCompiler<Record<string, unknown>> = ({ schema, httpPart }) =>
  httpPart === "body" ? bodyAjv.compile(schema) : compileQuery(schema);

const join = (base: string, key: string) => (base ? `${base}.${key}` : key);

/** ajv's errors as `{field, message}`, one per bad field, worded for an API user. */
export function validationDetails(errors: readonly Partial<ErrorObject>[], context: string): ErrorDetail[] {
  const whole = context === "body" ? "(body)" : `(${context})`;
  const details = errors.map((e): ErrorDetail => {
    const base = (e.instancePath ?? "").slice(1).replaceAll("/", ".");
    const params = (e.params ?? {}) as Record<string, unknown>;
    if (e.keyword === "required") return { field: join(base, String(params.missingProperty)), message: "is required" };
    if (e.keyword === "additionalProperties") {
      const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const noun = context === "body" ? "field" : "parameter";
      return { field: join(base, String(params.additionalProperty)), message: `is not a known ${noun}; allowed: ${allowed.join(", ")}` };
    }
    if (e.keyword === "enum") {
      return { field: base || whole, message: `must be one of ${(params.allowedValues as unknown[]).join(", ")}` };
    }
    return { field: base || whole, message: e.message ?? "is invalid" };
  });
  // A union type (e.g. string or null) can fail twice for one field: say it once.
  const seen = new Set<string>();
  return details.filter((d) => (seen.has(d.field) ? false : (seen.add(d.field), true)));
}
