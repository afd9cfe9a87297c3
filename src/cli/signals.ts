/**
 * Two-stage shutdown: the first SIGTERM/SIGINT asks politely (stop claiming, drain
 * within the grace bound, hand back the rest, exit 0); a second one exits at once.
 */
export function onTermination(first: (signal: NodeJS.Signals) => void): () => void {
  let received = 0;
  const handler = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) {
      first(signal);
      return;
    }
    process.stderr.write(`hookd: second ${signal}, exiting now; unsent claims return after their lease\n`);
    process.exit(1);
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return () => {
    process.off("SIGTERM", handler);
    process.off("SIGINT", handler);
  };
}
