/** How a query-string number is read: decimal digits that fit, or a problem naming why not. */
import { describe, expect, it } from "vitest";
import { numberProblem, numericProperties, queryNumberErrors, type NumberRule } from "../../src/api/queryNumbers.js";

const page: NumberRule = { type: "integer", minimum: 1, maximum: 1_000_000_000 };
const ratio: NumberRule = { type: "number", minimum: 0, maximum: 1 };
const open: NumberRule = { type: "integer" };
const NOT_DIGITS = { keyword: "type", message: "must be integer" };

describe("numberProblem", () => {
  it.each([
    ["1", page, null],
    ["+7", page, null],
    ["0010", page, null],
    // In range or not is ajv's to say (its own words) once the text is a number.
    ["0", page, null],
    ["-3", page, null],
    ["99999999999999999999", page, { keyword: "maximum", message: "must be <= 1000000000" }],
    ["9".repeat(400), page, { keyword: "maximum", message: "must be <= 1000000000" }],
    [`-${"9".repeat(400)}`, page, { keyword: "minimum", message: "must be >= 1" }],
    ["9".repeat(400), open, { keyword: "type", message: `must be an integer within ±${Number.MAX_SAFE_INTEGER}` }],
    ["1e400", page, NOT_DIGITS],
    ["1e3", page, NOT_DIGITS],
    ["Infinity", page, NOT_DIGITS],
    ["-Infinity", page, NOT_DIGITS],
    ["NaN", page, NOT_DIGITS],
    ["0x10", page, NOT_DIGITS],
    ["1.5", page, NOT_DIGITS],
    [" 1", page, NOT_DIGITS],
    ["", page, NOT_DIGITS],
    ["0.25", ratio, null],
    ["1e-400", ratio, { keyword: "type", message: "must be number" }],
    [`${"9".repeat(400)}.5`, ratio, { keyword: "maximum", message: "must be <= 1" }],
  ] as const)("%s", (text, rule, expected) => {
    expect(numberProblem(text, rule)).toEqual(expected);
  });
});

describe("queryNumberErrors", () => {
  const schema = { type: "object", properties: { page: { type: "integer", minimum: 1 }, sort: { type: "string" }, share: { type: "number" } } };

  it("finds the numeric properties of a schema", () => {
    expect([...numericProperties(schema).keys()]).toEqual(["page", "share"]);
  });

  it("names each bad numeric parameter, and leaves other parameters and non-strings to ajv", () => {
    const rules = numericProperties(schema);
    expect(queryNumberErrors(rules, { page: "1e400", sort: "1e400", share: "NaN" }).map((e) => e.instancePath)).toEqual(["/page", "/share"]);
    expect(queryNumberErrors(rules, { page: ["1", "2"], share: "0.5" })).toEqual([]);
    expect(queryNumberErrors(rules, undefined)).toEqual([]);
  });
});
