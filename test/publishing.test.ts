/** The publishing rules' pure parts. */
import { expect, it } from "vitest";
import { MAX_PAYLOAD_DEPTH, nestingDepth } from "../src/publishing.js";

it.each([
  ["1", 0],
  ['"text"', 0],
  ["{}", 1],
  ["[[],[[]]]", 3],
  ['{"a":{"b":[1,{"c":null}]},"d":[]}', 4],
  // brackets inside strings do not count, however the string is escaped
  ['["[[[", "{{"]', 1],
  ['["a\\"[[[", 1]', 1],
  ['["a\\\\", [[1]]]', 3],
  ['["\\\\\\"[[", [2]]', 2],
  ['{"\\u005b": "]]]]", "k": {"x": "\\\\"}}', 2],
  [`${"[".repeat(MAX_PAYLOAD_DEPTH + 1)}${"]".repeat(MAX_PAYLOAD_DEPTH + 1)}`, MAX_PAYLOAD_DEPTH + 1],
])("%s nests %d deep", (text, depth) => {
  JSON.parse(text); // the inputs are valid JSON, as the caller guarantees
  expect(nestingDepth(text)).toBe(depth);
});
