/** TLS receivers: a certificate nobody vouches for is a TLS error; one from a CA named in dispatch.caFile is delivered to. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { publish } from "../../src/publishing.js";
import { tempDir, testApp } from "../helpers/app.js";
import { makePrivateCa } from "../helpers/ca.js";

let server: https.Server | undefined;
let app: Awaited<ReturnType<typeof testApp>> | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await app?.cleanup();
  dir?.cleanup();
});

it("a self-signed certificate gives one attempt of class tls, and nothing is delivered", async () => {
  dir = tempDir("hookd-tls-");
  const key = path.join(dir.dir, "key.pem");
  const cert = path.join(dir.dir, "cert.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1", "-days", "1"], {
    stdio: "ignore",
  });
  let requests = 0;
  server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
    requests++;
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  app = await testApp();
  await app.hook(`https://127.0.0.1:${port}/in`);
  await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: "{}" }, app.publishRules);
  expect(await app.dispatcher.tick()).toMatchObject({ delivered: 0, rescheduled: 1 });
  const attempts = await app.store.db.selectFrom("attempts").selectAll().execute();
  expect(attempts).toHaveLength(1);
  expect(attempts[0]).toMatchObject({ error: "tls", status_code: null });
  expect(requests).toBe(0);
});

it("a receiver whose certificate comes from a private CA is delivered to once dispatch.caFile names the CA, and refused before", async () => {
  dir = tempDir("hookd-ca-");
  const ca = makePrivateCa(dir.dir);
  let requests = 0;
  server = https.createServer({ key: readFileSync(ca.keyFile), cert: readFileSync(ca.certFile) }, (_req, res) => {
    requests++;
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/in`;

  const untrusting = await testApp();
  await untrusting.hook(url);
  await publish(untrusting.store.db, { customerId: untrusting.customerId, topic: "orders:created", payload: "{}" }, untrusting.publishRules);
  expect(await untrusting.dispatcher.tick()).toMatchObject({ delivered: 0, rescheduled: 1 });
  expect(await untrusting.store.db.selectFrom("attempts").select("error").execute()).toEqual([{ error: "tls" }]);
  await untrusting.cleanup();
  expect(requests).toBe(0);

  app = await testApp({ dispatch: { caFile: ca.caFile } });
  await app.hook(url);
  await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: "{}" }, app.publishRules);
  expect(await app.dispatcher.tick()).toMatchObject({ delivered: 1 });
  expect(requests).toBe(1);
});
