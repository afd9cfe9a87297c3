/** No key, session cookie or portal token ever reaches hookd serve's log, even at debug level. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/app.js";
import { collect, spawnCli, untilServing } from "../helpers/cli.js";
import { serveSetup } from "../helpers/serve.js";

let dir: ReturnType<typeof tempDir> | undefined;
afterEach(() => dir?.cleanup());

describe("the console's secrets and hookd serve's log", () => {
  it("sign-in, portal link and cookie requests log no key, cookie or token", async () => {
    dir = tempDir("hookd-console-log-");
    const config = path.join(dir.dir, "debug.json");
    writeFileSync(config, JSON.stringify({ log: { level: "debug" } }));
    const { env, url, key } = await serveSetup(dir.dir, { HOOKD_CONFIG: config });
    const child = spawnCli(["serve"], env);
    const done = collect(child);
    await untilServing(url);
    const json = { "content-type": "application/json" };
    const signIn = await fetch(`${url}/ui/session`, { method: "POST", headers: json, body: JSON.stringify({ key }) });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    const link = (await (
      await fetch(`${url}/portal-sessions/`, { method: "POST", headers: { ...json, authorization: `Bearer ${key}` }, body: "{}" })
    ).json()) as { url: string };
    const token = new URL(link.url, url).hash.slice(1);
    const opened = await fetch(`${url}/ui/session/portal`, { method: "POST", headers: json, body: JSON.stringify({ token }) });
    const portalCookie = opened.headers.get("set-cookie")!.split(";")[0]!;
    expect((await fetch(`${url}/webhooks/`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${url}/webhooks/`, { headers: { cookie: portalCookie } })).status).toBe(200);
    expect((await fetch(`${url}/ui/session`, { method: "POST", headers: json, body: JSON.stringify({ key: `${key}x` }) })).status).toBe(401);

    child.kill("SIGTERM");
    const { stderr, code } = await done;
    expect(code).toBe(0);
    expect(stderr).toContain("/ui/session"); // the requests were logged…
    for (const secret of [key, cookie.split("=")[1]!, portalCookie.split("=")[1]!, token]) expect(stderr).not.toContain(secret); // …their secrets not
  });
});
