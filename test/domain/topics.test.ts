import { describe, expect, it } from "vitest";
import { parseTopic, topicProblem } from "../../src/domain/topics.js";

const catalog = ["orders:created", "orders:updated", "stock:updated"];

describe("parseTopic", () => {
  it.each([
    ["orders:created", { group: "orders", action: "created" }],
    ["stock:updated", { group: "stock", action: "updated" }],
    ["orders", null],
    ["orders:", null],
    [":created", null],
    ["Orders:Created", null],
    ["a:b:c", null],
  ])("%s → %j", (topic, expected) => expect(parseTopic(topic)).toEqual(expected));
});

describe("topicProblem", () => {
  it.each([
    ["orders:created", null],
    ["orders:deleted", 'unknown action "deleted" for group "orders"; known actions: created, updated'],
    ["order:created", 'unknown group "order"; known groups: orders, stock'],
    ["nonsense", 'must be "group:action" (got "nonsense")'],
  ])("%s → %s", (topic, expected) => expect(topicProblem(catalog, topic)).toBe(expected));
});
