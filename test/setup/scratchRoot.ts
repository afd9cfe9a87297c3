/**
 * Global setup: one folder for the workers' working folders (workdir.ts), removed when
 * the run ends. Workers are stopped with a signal, so a folder each removed on its own
 * exit would be left behind; the run's main process removes them all.
 */
import { tempDir } from "../helpers/app.js";

export const SCRATCH_ROOT_ENV = "HOOKD_TEST_SCRATCH_ROOT";

export default function setup(): () => void {
  const root = tempDir("hookd-test-cwd-");
  // Set before the workers start, so each inherits it.
  process.env[SCRATCH_ROOT_ENV] = root.dir;
  return root.cleanup;
}
