/**
 * A PostgreSQL server of the test's own, for what must never happen to the shared one
 * on 5432: restarts (`pg_ctl restart -m fast` / `-m immediate`), stops, a pause
 * (SIGSTOP to every process of the instance). `initdb` in a new folder under the temp
 * directory, trust authentication, 127.0.0.1 on a free port, its unix socket in that
 * folder. As root, initdb and pg_ctl run as the `postgres` user (they refuse root).
 *
 * Tests that use it first check `ownPostgres.skip` / call `ownPostgres.require()`: on a
 * developer's machine without PostgreSQL's server binaries they are skipped and say why,
 * under CI they fail.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { prerequisite } from "./prerequisites.js";
import { closedPort } from "./receiver.js";

/** The folder holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/N/bin. */
function serverBinaries(): string | null {
  const onPath = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).stdout.trim();
  if (onPath && existsSync(path.join(path.dirname(onPath), "pg_ctl"))) return path.dirname(onPath);
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], "bin") : null;
}

const BIN = serverBinaries();
export const ownPostgres = prerequisite(
  "a PostgreSQL server of the test's own",
  BIN ? null : "initdb and pg_ctl are not installed (apt-get install postgresql)",
);

const AS_ROOT = process.getuid?.() === 0;
/** The user initdb and the server run as: `postgres` under root (the server refuses root). */
function serverUser(): { uid: number; gid: number } | null {
  if (!AS_ROOT) return null;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

export type StopMode = "smart" | "fast" | "immediate";

export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  /** a URL for another database of this server */
  urlOf(database: string): string;
  /** `pg_ctl restart -m <mode>`; resolves once it accepts connections again */
  restart(mode: StopMode): Promise<void>;
  stop(mode?: StopMode): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP every process of the instance: connections stay open, nothing answers */
  pause(): void;
  resume(): void;
  /** The server's log so far (for a failing test's message). */
  log(): string;
  /** Stop it (immediate) and remove its folder. Safe to call twice. */
  cleanup(): Promise<void>;
}

export async function startOwnPostgres(settings: Record<string, string | number> = {}): Promise<OwnPostgres> {
  if (!BIN) throw new Error("initdb and pg_ctl are not installed");
  const dir = mkdtempSync(path.join(tmpdir(), "hookd-own-pg-"));
  const data = path.join(dir, "data");
  const logFile = path.join(dir, "server.log");
  const user = serverUser();
  if (user) chownSync(dir, user.uid, user.gid);
  // Asynchronous: the test's own receivers keep answering while pg_ctl waits.
  const run = (command: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const [file, argv] = AS_ROOT ? ["runuser", ["-u", "postgres", "--", path.join(BIN, command), ...args]] : [path.join(BIN, command), args];
      execFile(file, argv, { encoding: "utf8", timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${command} ${args.join(" ")} failed: ${stderr || stdout || err.message}\n${readLog()}`));
        else resolve();
      });
    });
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  await run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"]);
  const port = await closedPort();
  // fsync off: a test server needs no durability against power cuts, and it is much faster.
  const options = { listen_addresses: "127.0.0.1", port, unix_socket_directories: dir, fsync: "off", ...settings };
  const o = Object.entries(options)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(" ");
  const ctl = (...args: string[]) => run("pg_ctl", ["-D", data, "-l", logFile, "-w", "-t", "60", ...args]);
  await ctl("-o", o, "start");

  /** The postmaster and every process it started. */
  const processes = (): number[] => {
    const pidFile = path.join(data, "postmaster.pid");
    if (!existsSync(pidFile)) return [];
    const postmaster = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    const children = readdirSync("/proc")
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          // Field 4 of /proc/<pid>/stat is the parent; the name (field 2) may hold spaces, so count after ")".
          const stat = readFileSync(`/proc/${p}/stat`, "utf8");
          return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === postmaster;
        } catch {
          return false;
        }
      })
      .map(Number);
    return [postmaster, ...children];
  };
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of processes()) {
      try {
        process.kill(pid, sig);
      } catch {
        // gone meanwhile
      }
    }
  };

  let cleaned = false;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    urlOf: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    restart: (mode) => ctl("-m", mode, "restart"),
    stop: (mode = "fast") => ctl("-m", mode, "stop"),
    start: () => ctl("-o", o, "start"),
    pause: () => signal("SIGSTOP"),
    resume: () => signal("SIGCONT"),
    log: readLog,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      signal("SIGCONT");
      await ctl("-m", "immediate", "stop").catch(() => undefined); // already stopped
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
