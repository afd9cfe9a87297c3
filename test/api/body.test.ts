import { describe, expect, it } from "vitest";
import { rawMember } from "../../src/api/body.js";

describe("rawMember", () => {
  const cases: [string, string, string | null][] = [
    ['{"topic":"orders:created","payload":{"id":1}}', "payload", '{"id":1}'],
    ['{ "payload" : {"a" : [1, 2 ,{"b":"}]"}]} , "topic":"x"}', "payload", '{"a" : [1, 2 ,{"b":"}]"}]}'],
    ['{"payload":"a \\"quoted\\" {brace}","topic":"x"}', "payload", '"a \\"quoted\\" {brace}"'],
    ['{"payload":12.50e1}', "payload", "12.50e1"],
    ['{"payload":null,"x":true}', "payload", "null"],
    ['{"payload":[],"payload":{"last":"wins"}}', "payload", '{"last":"wins"}'],
    ['{"pay\\u006coad":{"escaped":"key"}}', "payload", '{"escaped":"key"}'],
    ['{"x":{"payload":1},"payload":"zoë 🚚 \\u00e9"}', "payload", '"zoë 🚚 \\u00e9"'],
    ['{"x":"\\\\","payload":{"k":"\\\\"}}', "payload", '{"k":"\\\\"}'],
    ['{"topic":"x"}', "payload", null],
    ["{}", "payload", null],
    ['["payload",1]', "payload", null],
    ['"payload"', "payload", null],
  ];
  for (const [text, name, expected] of cases) {
    it(`finds ${name} in ${text}`, () => {
      JSON.parse(text); // the precondition: valid JSON
      const raw = rawMember(text, name);
      expect(raw).toBe(expected);
      if (raw !== null) expect(JSON.parse(raw)).toEqual((JSON.parse(text) as Record<string, unknown>)[name]);
    });
  }

  it("finds the payload's exact text in 2,000 random bodies (seeded): nested values, escapes, brackets in strings, any spacing", () => {
    let seed = 24;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = <T>(xs: readonly T[]) => xs[rand(xs.length)]!;
    const space = () => pick(["", "", " ", "\n  ", "\t", " \r\n"]);
    const STRINGS = ["a", '"', "\\", '\\"', "{", "}]", "[", "zoë 🚚", "\u0001", "payload", ",", ":"];
    const str = () => JSON.stringify(Array.from({ length: rand(4) }, () => pick(STRINGS)).join(""));
    const value = (depth: number): string => {
      const kind = rand(depth > 3 ? 3 : 5);
      if (kind === 0) return str();
      if (kind === 1) return pick(["0", "-1.5e3", "true", "false", "null", "12"]);
      if (kind === 2) return str();
      const items = Array.from({ length: rand(4) }, () => (kind === 3 ? value(depth + 1) : `${str()}${space()}:${space()}${value(depth + 1)}`));
      const [open, close] = kind === 3 ? ["[", "]"] : ["{", "}"];
      return `${open}${space()}${items.join(`${space()},${space()}`)}${space()}${close}`;
    };
    for (let n = 0; n < 2000; n++) {
      const payload = value(0);
      const members = [`"payload"${space()}:${space()}${payload}`, `"topic":${space()}${str()}`, `${str()}:${value(1)}`];
      const text = `${space()}{${space()}${members.sort(() => rand(3) - 1).join(`${space()},${space()}`)}${space()}}${space()}`;
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const raw = rawMember(text, "payload");
      // Another member may also be named "payload" (a random key): the last one wins, as for JSON.parse.
      expect(JSON.parse(raw!)).toEqual(parsed.payload);
      if (!text.slice(text.indexOf(payload) + payload.length).includes('"payload"')) expect(raw).toBe(payload);
    }
  });
});
