import { describe, expect, it } from "vitest";
import { accentProblem, contrastWithWhite, logoOrigin, logoProblem } from "../../src/config/brand.js";

describe("contrastWithWhite", () => {
  it.each([
    ["#000", 21],
    ["#ffffff", 1],
    ["#0550ae", 7.6],
    ["#767676", 4.5],
    ["#ffcc00", 1.5],
  ])("%s → %f:1", (colour, ratio) => {
    expect(contrastWithWhite(colour)).toBeCloseTo(ratio, 1);
  });
});

describe("accentProblem", () => {
  it.each([
    ["#0550ae", null],
    ["#B42318", null],
    ["#777777", "(#777777 has 4.47:1)"],
    ["#0ff", "(#0ff has 1.25:1)"],
  ])("%s", (colour, problem) => {
    const found = accentProblem(colour);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});

describe("logoProblem and logoOrigin", () => {
  it.each([
    ["https://cdn.example.com/a/logo.svg?v=2", null, "https://cdn.example.com"],
    ["https://cdn.example.com:8443/logo.png", null, "https://cdn.example.com:8443"],
    ["data:image/png;base64,iVBORw0KGgo=", null, null],
    ["http://cdn.example.com/logo.png", "plain http", null],
    ["https://user:pw@cdn.example.com/logo.png", "user name or password", null],
    ["data:image/svg+xml,<svg/>", "base64", null],
    ["data:text/html;base64,PGgxPg==", "data:image/", null],
    ["/logo.png", "https:// URL or a data:image", null],
  ])("%s", (url, problem, origin) => {
    const found = logoProblem(url);
    if (problem === null) {
      expect(found).toBeNull();
      expect(logoOrigin(url)).toBe(origin);
    } else expect(found).toContain(problem);
  });
});
