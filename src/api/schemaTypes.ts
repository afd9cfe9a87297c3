/**
 * The TypeScript type a JSON schema (as written in schemas.ts, `as const`) describes:
 * the typed client's requests and answers come from the same schemas the routes
 * validate with and /openapi.json is generated from. Covers what schemas.ts uses:
 * `type` (one or a list), `enum`, `properties` with `required`, `additionalProperties`,
 * `items`; anything else is `unknown`.
 */

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type Primitive<T> = T extends "string" ? string : T extends "integer" | "number" ? number : T extends "boolean" ? boolean : T extends "null" ? null : unknown;

type ObjectOf<S> = S extends { properties: infer P }
  ? Simplify<
      { -readonly [K in keyof P as K extends RequiredOf<S> ? K : never]: FromSchema<P[K]> } & {
        -readonly [K in keyof P as K extends RequiredOf<S> ? never : K]?: FromSchema<P[K]>;
      }
    >
  : S extends { additionalProperties: infer A }
    ? A extends false
      ? Record<string, never>
      : A extends object
        ? Record<string, FromSchema<A>>
        : Record<string, unknown>
    : Record<string, unknown>;

type RequiredOf<S> = S extends { required: readonly (infer R)[] } ? R : never;

type OfType<T, S> = T extends "object" ? ObjectOf<S> : T extends "array" ? (S extends { items: infer I } ? FromSchema<I>[] : unknown[]) : Primitive<T>;

export type FromSchema<S> = S extends { enum: readonly (infer E)[] }
  ? E
  : S extends { type: readonly (infer T)[] }
    ? OfType<T, S>
    : S extends { type: infer T }
      ? OfType<T, S>
      : unknown;
