import { describe, expect, it } from "vitest";
import {
  checkCounts,
  checkMigration,
  columnKind,
  fromPortable,
  headerLine,
  ndjsonLines,
  parseHeader,
  parseLine,
  rowLine,
  toPortable,
  trailerLine,
  type ExportHeader,
} from "../../src/store/exportFormat.js";

const header: ExportHeader = {
  format: "hookd-export",
  version: 1,
  hookd: "0.1.0",
  migration: "003_retention",
  dialect: "sqlite",
  exported_at: "2026-01-01T00:00:00.000Z",
  tables: ["customers"],
  counts: { customers: 1 },
};

describe("export format", () => {
  it("reads back what it writes, unicode included", () => {
    expect(parseHeader(headerLine(header))).toEqual(header);
    const row = { id: "c1", name: "Ωmega 🚚 \u2028 \r\n \u0000", created_at: 1_700_000_000_000, active: 1, gone: null };
    expect(parseLine(rowLine("customers", row), 2)).toEqual({ kind: "row", table: "customers", row });
    expect(parseLine(trailerLine({ customers: 1 }), 3)).toEqual({ kind: "trailer", end: true, counts: { customers: 1 } });
  });

  it.each([
    [undefined, /input is empty/],
    ["{not json", /^line 1: not valid JSON/],
    ['{"format":"other"}', /^line 1: not a hookd export/],
    [JSON.stringify({ ...header, version: "1" }), /^line 1: the header has no format version/],
    [JSON.stringify({ ...header, counts: { customers: -1 } }), /^line 1: the header lacks/],
    [JSON.stringify({ ...header, version: 2 }), /format version 2, newer than this hookd reads \(1\)/],
  ])("refuses the header %s", (text, message) => {
    expect(() => parseHeader(text)).toThrow(message);
  });

  it.each([
    ['{"table":"customers","row":{"id":', /^line 7: not valid JSON.*nothing was imported$/],
    ["[1,2]", /^line 7: expected a JSON object/],
    ['{"table":"customers"}', /^line 7: expected \{"table"/],
    ['{"table":"customers","row":{"id":{"x":1}}}', /^line 7: customers.id is not a plain value/],
    ['{"end":true,"counts":{"customers":"1"}}', /^line 7: the closing line has no valid counts/],
  ])("refuses the line %s with its number", (text, message) => {
    expect(() => parseLine(text, 7)).toThrow(message);
  });

  it.each([
    ["003_retention", "003_retention", null],
    ["009_future", "003_retention", /newer hookd schema \(009_future\) than this hookd's \(003_retention\)/],
    ["002_endpoint_health", "003_retention", /older hookd schema.*run `hookd migrate` on the source/],
    ["001_initial", null, /newer hookd schema/],
  ])("export schema %s into a target at %s", (exported, target, message) => {
    if (message === null) expect(() => checkMigration(exported, target)).not.toThrow();
    else expect(() => checkMigration(exported, target)).toThrow(message);
  });

  it("checks the closing counts against the header and the rows read", () => {
    expect(() => checkCounts({ a: 2 }, { a: 2 }, { a: 2 }, 9)).not.toThrow();
    expect(() => checkCounts({ a: 2 }, { a: 2 }, { a: 1 }, 9)).toThrow(/^line 9: the file says 2 a rows \(header: 2\) but holds 1/);
    expect(() => checkCounts({ a: 2 }, { a: 3 }, { a: 3 }, 9)).toThrow(/header: 2/);
    expect(() => checkCounts({}, {}, { b: 1 }, 9)).toThrow(/0 b rows/);
  });

  it.each([
    ["bigint", "1700000000000", 1_700_000_000_000],
    ["integer", 5n, 5],
    ["text", "42", "42"],
    ["bigint", null, null],
    ["boolean", true, true],
  ] as const)("carries a %s value %s as %s", (type, value, portable) => {
    expect(toPortable(value, columnKind(type))).toEqual(portable);
  });

  it.each([
    ["integer", true, 1],
    ["integer", false, 0],
    ["boolean", 1, true],
    ["boolean", 0, false],
    ["bigint", 7, 7],
    ["text", "x", "x"],
  ] as const)("loads into a %s column %s as %s", (type, value, stored) => {
    expect(fromPortable(value, columnKind(type))).toEqual(stored);
  });
});

describe("ndjsonLines", () => {
  async function* chunks(...parts: string[]) {
    yield* parts;
  }
  const all = async (it: AsyncIterable<string>) => {
    const out: string[] = [];
    for await (const line of it) out.push(line);
    return out;
  };

  it.each([
    ["one chunk", ["a\nb\n"], ["a", "b"]],
    ["a line across chunks", ['{"x":', '1}\n{"y"', ":2}\n"], ['{"x":1}', '{"y":2}']],
    ["no final newline", ["a\nb"], ["a", "b"]],
    ["CRLF", ["a\r\nb\r\n"], ["a", "b"]],
    ["U+2028 and U+2029 stay inside their line", ['{"p":"a\u2028b\u2029c"}\n'], ['{"p":"a\u2028b\u2029c"}']],
    ["an empty line is a line", ["a\n\nb\n"], ["a", "", "b"]],
  ])("%s", async (_name, input, expected) => {
    expect(await all(ndjsonLines(chunks(...input)))).toEqual(expected);
  });
});
