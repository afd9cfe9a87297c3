/**
 * The README's receivers (examples/receivers/), run as written against real deliveries
 * from hookd: each accepts a genuine delivery and rejects one whose body was changed
 * on the way (a tampering proxy in between), handles a repeated webhook-id once, and
 * refuses a request replayed after the 5-minute tolerance. Node and Python always run;
 * Ruby, Go and PHP where their runtime is installed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { deliveryHeaders } from "../../src/dispatch/request.js";
import { commandProblem, prerequisite } from "../helpers/prerequisites.js";
import { publish } from "../../src/publishing.js";
import { tempDir, testApp } from "../helpers/app.js";
import { closedPort } from "../helpers/receiver.js";

const examples = fileURLToPath(new URL("../../examples/receivers/", import.meta.url));
const SECRET = `whsec_${Buffer.from("an example receiver's 32-byte key").toString("base64")}`;
const PLAIN = "your_secret_key";

interface Example {
  name: string;
  /** under examples/receivers/ */
  file: string;
  runtime: string;
  command: (port: number) => string[];
}

const EXAMPLES: Example[] = [
  { name: "Node", file: "node.mjs", runtime: process.execPath, command: () => [process.execPath, "node.mjs"] },
  { name: "Python", file: "python.py", runtime: "python3", command: () => ["python3", "python.py"] },
  { name: "Ruby", file: "ruby.rb", runtime: "ruby", command: () => ["ruby", "ruby.rb"] },
  { name: "Go", file: "go/main.go", runtime: "go", command: () => ["go", "run", "go/main.go"] },
  { name: "PHP", file: "php.php", runtime: "php", command: (port) => ["php", "-S", `127.0.0.1:${port}`, "php.php"] },
];
const REQUIRED = new Set(["Node", "Python"]);

let child: ChildProcess | undefined;
let proxy: http.Server | undefined;
let app: Awaited<ReturnType<typeof testApp>> | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  tmp?.cleanup();
  tmp = undefined;
  // Its own process group: `go run` starts the built program as a child of its own.
  if (child?.pid && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
  child = undefined;
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
  proxy = undefined;
  await app?.cleanup();
  app = undefined;
});

/**
 * Start the example and wait for it to say it is listening (PHP's server says "started").
 * Returns everything it has printed so far, stdout and stderr together.
 */
async function startExample(example: Example, port: number, secret = SECRET): Promise<() => string> {
  const [bin, ...args] = example.command(port);
  tmp = tempDir("hookd-example-");
  const proc = spawn(bin!, args, {
    cwd: examples,
    // TMPDIR: PHP keeps its webhook-id markers there.
    env: { ...process.env, WEBHOOK_SECRET: secret, PORT: String(port), TMPDIR: tmp.dir },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child = proc;
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const seen = (chunk: Buffer) => {
      output += chunk.toString();
      if (/listening on|started/.test(output)) resolve();
    };
    proc.stdout!.on("data", seen);
    proc.stderr!.on("data", seen);
    proc.on("exit", (code) => reject(new Error(`${example.name} receiver exited ${code}: ${output}`)));
  });
  return () => output;
}

/** A request exactly as hookd signs it `agoMs` before now, POSTed straight to the example. */
async function post(port: number, eventId: string, agoMs = 0): Promise<number> {
  const body = Buffer.from('{"order":7,"note":"ünï"}');
  const req = { url: "", body, secret: PLAIN, webhookId: "w", eventId, deliveryId: "d", topic: "orders:created", attemptNumber: 1 };
  const res = await fetch(`http://127.0.0.1:${port}/webhook`, { method: "POST", headers: deliveryHeaders(req, Date.now() - agoMs), body });
  await res.arrayBuffer();
  return res.status;
}

/** Forwards every request to `port` with one byte of the body changed, headers (signature) intact. */
async function tamperingProxy(port: number): Promise<string> {
  proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.from(Buffer.concat(chunks).toString().replace("42", "43"));
      const headers = { ...req.headers, "content-length": String(body.length) };
      const out = http.request({ host: "127.0.0.1", port, path: req.url, method: req.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502);
        answer.pipe(res);
      });
      out.on("error", () => res.writeHead(502).end());
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

describe("receiver examples", () => {
  it("are shown in the README exactly as tested", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    for (const example of EXAMPLES) expect(readme).toContain(readFileSync(`${examples}${example.file}`, "utf8"));
  });

  for (const example of EXAMPLES) {
    const runtime = prerequisite(
      example.name,
      REQUIRED.has(example.name) ? null : commandProblem(example.runtime, "apt-get install ruby ruby-webrick php-cli golang-go"),
    );
    it.skipIf(runtime.skip)(
      `${example.name}: accepts a real delivery and rejects a tampered body`,
      async () => {
        runtime.require();
        const port = await closedPort();
        await startExample(example, port);
        const tampered = await tamperingProxy(port);
        app = await testApp();
        const direct = await app.hook(`http://127.0.0.1:${port}/webhook`, "orders:created", SECRET);
        const changed = await app.hook(`${tampered}/webhook`, "orders:created", SECRET);
        await publish(
          app.store.db,
          { customerId: app.customerId, topic: "orders:created", payload: '{ "order": 42, "note": "🚚 ünïcode" }' },
          app.publishRules,
        );

        const summary = await app.dispatcher.tick();
        expect(summary).toMatchObject({ delivered: 1, rescheduled: 1 });
        const rows = await app.store.db.selectFrom("deliveries").select(["webhook_id", "status", "last_status_code"]).execute();
        expect(rows.find((r) => r.webhook_id === direct)).toMatchObject({ status: "delivered", last_status_code: 200 });
        expect(rows.find((r) => r.webhook_id === changed)).toMatchObject({ status: "pending", last_status_code: 403 });
      },
      120_000,
    );
  }

  for (const example of EXAMPLES) {
    const runtime = prerequisite(
      example.name,
      REQUIRED.has(example.name) ? null : commandProblem(example.runtime, "apt-get install ruby ruby-webrick php-cli golang-go"),
    );
    it.skipIf(runtime.skip)(
      `${example.name}: handles a repeated webhook-id once and refuses a replay after 5 minutes (plain secret)`,
      async () => {
        runtime.require();
        const port = await closedPort();
        const output = await startExample(example, port, PLAIN);
        expect(await post(port, "evt_once")).toBe(200);
        expect(await post(port, "evt_once")).toBe(200); // the same delivery again: acknowledged, not handled twice
        expect(await post(port, "evt_fresh", 4 * 60_000)).toBe(200);
        expect(await post(port, "evt_replayed", 6 * 60_000)).toBe(403);
        expect(await post(port, "evt_future", -6 * 60_000)).toBe(403);
        const printed = output();
        expect(printed.split("evt_once")).toHaveLength(2);
        expect(printed).toContain("evt_fresh");
        expect(printed).not.toContain("evt_replayed");
      },
      120_000,
    );
  }
});
