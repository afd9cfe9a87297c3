import { describe, expect, it } from "vitest";
import { checkUrl, isPublicAddress } from "../../src/domain/urlPolicy.js";

const production = { allowHttp: false, allowPrivateAddresses: false };
const sandbox = { allowHttp: true, allowPrivateAddresses: true };

describe("isPublicAddress", () => {
  it.each([
    ["93.184.216.34", true],
    ["8.8.8.8", true],
    ["2606:4700:4700::1111", true],
    ["127.0.0.1", false],
    ["10.1.2.3", false],
    ["172.16.0.1", false],
    ["192.168.1.1", false],
    ["169.254.169.254", false],
    ["100.64.0.1", false],
    ["0.0.0.0", false],
    ["::1", false],
    ["::", false],
    ["fe80::1", false],
    ["fd00::1", false],
    ["::ffff:127.0.0.1", false],
    ["::ffff:7f00:1", false],
    ["::ffff:93.184.216.34", true],
    ["64:ff9b::7f00:1", false],
    ["::ffff:0:7f00:1", false], // IPv4-translated 127.0.0.1
    ["::ffff:0:5db8:d822", false], // IPv4-translated, whatever it embeds
    ["not an ip", false],
  ])("%s → %s", (ip, expected) => expect(isPublicAddress(ip)).toBe(expected));
});

describe("checkUrl", () => {
  it.each([
    ["https://hooks.example.com/in", production, true],
    ["http://hooks.example.com/in", production, false],
    ["https://127.0.0.1/", production, false],
    ["https://2130706433/", production, false],
    ["https://0x7f.1/", production, false],
    ["https://0177.0.0.1/", production, false],
    ["https://[::1]/", production, false],
    ["https://[::ffff:127.0.0.1]/", production, false],
    ["https://169.254.169.254/latest/meta-data", production, false],
    ["https://localhost/", production, false],
    ["https://intranet/", production, false],
    ["https://user:pw@hooks.example.com/", production, false],
    ["ftp://hooks.example.com/", production, false],
    ["not a url", production, false],
    ["http://127.0.0.1:8080/hook", sandbox, true],
    ["http://localhost:3000/", sandbox, true],
    ["http://localhost:3000/a\r\nb", sandbox, false],
    ["http://localhost:3000/\u001b[2J", sandbox, false],
    ["http://localhost:3000/\tx", sandbox, false],
    ["http://localhost:3000/a b", sandbox, false],
    ["http://localhost:3000/\u0085", sandbox, false],
    ["http://localhost:3000/\u00a0", sandbox, false],
    ["http://localhost:3000/\ud800", sandbox, false],
    ["http://localhost:3000/\ud83d\ude9a", sandbox, true],
  ])("%s → %s", (url, rules, ok) => expect(checkUrl(url, rules).ok).toBe(ok));
});

describe("checkUrl normalises", () => {
  it.each([
    ["HTTPS://Hooks.Example.COM:443/in", "https://hooks.example.com/in"],
    ["https://hooks.example.com", "https://hooks.example.com/"],
    ["https://hooks.example.com/a/../b?x=é", "https://hooks.example.com/b?x=%C3%A9"],
  ])("%s → %s", (raw, normalised) => expect(checkUrl(raw, production)).toMatchObject({ ok: true, url: normalised }));
});
