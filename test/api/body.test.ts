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
});
