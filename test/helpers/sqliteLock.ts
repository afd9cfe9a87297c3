/** Another process that takes an SQLite file's write lock and keeps it until released (or killed). */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";

export interface WriteLock {
  release(): Promise<void>;
  kill(): void;
}

export async function holdWriteLock(file: string): Promise<WriteLock> {
  const source = `
    const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});
    const db = new Database(${JSON.stringify(file)});
    db.exec("begin immediate");
    process.stdout.write("locked\\n");
    process.stdin.once("data", () => { db.exec("commit"); db.close(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ["-e", source], { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  return {
    release: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.stdin.write("go\n");
      }),
    kill: () => child.kill("SIGKILL"),
  };
}
