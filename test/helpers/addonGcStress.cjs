// better-sqlite3 as npm installed it, on the Node running this. Each of N worker threads
// (a fresh V8 isolate) prepares and drops statements, then makes its first fetches:
// undici's HTTP parser is WebAssembly, and a garbage collection that starts inside it
// has no context entered. better-sqlite3 12 compiled for Node 24.19 to 24.21 aborts the
// process there within a few workers ("Assertion failed: (env) != nullptr" in
// RemoveEnvironmentCleanupHook, from ObjectWrap's destructor in a statement's
// finalizer); Node 24.22.0 fixed it. The amount of garbage differs from worker to worker,
// so that some collection lands in the parser. Prints a line and exits 0 when nothing
// aborted. Usage: node addonGcStress.cjs [workers]
const http = require("node:http");
const { Worker, isMainThread, workerData } = require("node:worker_threads");

async function main() {
  const workers = Number(process.argv[2] ?? 30);
  const server = http.createServer((_req, res) => res.end("x".repeat(2048))).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  let statements = 0;
  for (let k = 0; k < workers; k++) {
    const worker = new Worker(__filename, { workerData: { url, k } });
    worker.on("message", (n) => (statements += n));
    await new Promise((resolve, reject) => {
      worker.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`worker ${k} exited ${code}`))));
      worker.once("error", reject);
    });
  }
  server.close();
  console.log(`${workers} workers prepared and dropped ${statements} statements around their first fetches on Node ${process.version}: no abort`);
}

async function work() {
  const Database = require("better-sqlite3");
  const { parentPort } = require("node:worker_threads");
  const { url, k } = workerData;
  const db = new Database(":memory:");
  const garbage = [];
  const statements = 20 + 3 * k;
  for (let i = 0; i < statements; i++) {
    db.prepare(`select ${i} as x`).get();
    garbage.push("y".repeat(10 * k));
  }
  for (let f = 0; f < 3; f++) await (await fetch(url)).text();
  parentPort.postMessage(statements);
}

(isMainThread ? main() : work()).catch((err) => {
  console.error(err);
  process.exit(1);
});
