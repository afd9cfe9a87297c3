/**
 * No key, session cookie or portal token, and no webhook secret or encryption key
 * material, ever reaches hookd serve's log, even at debug or trace level.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openApp } from "../../src/app.js";
import { generateKeyLine, parseKeyFile } from "../../src/domain/secretBox.js";
import { silentLogger } from "../../src/logger.js";
import { tempDir } from "../helpers/app.js";
import { collect, runCli, spawnCli, untilServing } from "../helpers/cli.js";
import { startReceiver } from "../helpers/receiver.js";
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

describe("webhook secrets and hookd serve's log", () => {
  it("create, rotate, test, delivery, rekey and a secret that cannot be opened log no secret and no key material", async () => {
    dir = tempDir("hookd-secret-log-");
    const config = path.join(dir.dir, "trace.json");
    writeFileSync(config, JSON.stringify({ log: { level: "trace" }, dispatch: { schedule: "* * * * * *" } }));
    const { env, url, key } = await serveSetup(dir.dir, { HOOKD_CONFIG: config });
    const keyFile = path.join(dir.dir, "hookd.key"); // made on first use, beside the database
    const receiver = await startReceiver();
    const child = spawnCli(["serve"], env);
    const done = collect(child);
    let log = "";
    child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
    try {
      await untilServing(url);
      const call = async (method: string, route: string, body?: unknown) => {
        const res = await fetch(`${url}${route}`, {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, any> };
      };
      const secrets = ["log-canary-created-secret", "log-canary-patched-secret", "log-canary-rotated-secret"];
      const hook = await call("POST", "/webhooks/", { url: `${receiver.url}/in`, group: "orders", action: "created", hash_secret: secrets[0] });
      expect(hook.status).toBe(201);
      await call("PATCH", `/webhooks/${hook.body.id}/`, { hash_secret: secrets[1] });
      expect((await call("POST", `/webhooks/${hook.body.id}/rotate-secret/`, { hash_secret: secrets[2] })).status).toBe(200);
      const generated = (await call("POST", `/webhooks/${hook.body.id}/rotate-secret/`)).body.hash_secret as string;
      expect((await call("POST", `/webhooks/${hook.body.id}/test/`)).body.ok).toBe(true);
      expect((await call("POST", "/events/", { topic: "orders:created", payload: { n: 1 } })).status).toBe(202);
      while (receiver.requests.length < 2) await new Promise((r) => setTimeout(r, 50));

      // A second webhook whose secret was sealed under a key this node lacks: its delivery is held, and said so.
      const foreignLine = generateKeyLine("foreign");
      const foreign = parseKeyFile(foreignLine, "another node");
      const lost = await call("POST", "/webhooks/", { url: `${receiver.url}/lost`, group: "orders", action: "updated", hash_secret: "log-canary-lost-secret" });
      const app = await openApp({ env: { HOOKD_ENV: "test", ...env }, logger: silentLogger });
      const sealed = foreign.seal("log-canary-lost-secret");
      await app.store.db.updateTable("webhooks").set({ hash_secret: sealed }).where("id", "=", lost.body.id).execute();
      await app.close();
      expect((await call("POST", `/webhooks/${lost.body.id}/test/`)).status).toBe(503);
      expect((await call("POST", "/events/", { topic: "orders:updated", payload: { n: 2 } })).status).toBe(202);
      const rekey = await runCli(["secrets", "rekey"], env);
      expect(rekey.code).toBe(1); // the foreign secret stays as it is
      for (let i = 0; i < 200 && !log.includes("not sending"); i++) await new Promise((r) => setTimeout(r, 50));

      child.kill("SIGTERM");
      const { stderr, code } = await done;
      expect(code).toBe(0);
      expect(stderr).toContain("not sending"); // the held delivery was logged…
      expect(stderr).toContain('"key_id":"foreign"');
      const material = [...readFileSync(keyFile, "utf8").split("\n"), foreignLine]
        .filter((l) => l.includes(":") && !l.startsWith("#"))
        .map((l) => l.split(":")[1]!);
      expect(material).toHaveLength(2);
      for (const secret of [...secrets, generated, "log-canary-lost-secret", sealed, ...material]) expect(stderr).not.toContain(secret); // …no secret with it
      expect(rekey.stdout + rekey.stderr).not.toContain("log-canary");
    } finally {
      await receiver.close();
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
