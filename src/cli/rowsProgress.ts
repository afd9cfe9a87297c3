/**
 * `hookd export` / `import`'s progress bar: on stderr, and only when stderr is a
 * terminal, because stdout may be the data itself (`hookd export | hookd import`).
 */
import cliProgress from "cli-progress";

export interface RowsBar {
  update(done: number, total: number): void;
  stop(): void;
}

export function rowsProgressBar(verb: string, stream: NodeJS.WriteStream = process.stderr): RowsBar | null {
  if (!stream.isTTY) return null;
  const bar = new cliProgress.SingleBar(
    { stream, format: `${verb} [{bar}] {value}/{total} rows | {eta_formatted} left`, clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
        return;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    /** Clears the bar; safe to call twice. */
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
