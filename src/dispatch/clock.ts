/**
 * Time for a tick. Leases and due times are compared on the database's clock, so a
 * dispatcher whose own clock is minutes off neither steals nor loses claims: the
 * tick reads the database's time before every claim and runs on the local clock
 * corrected by the offset it saw. Tests inject a ManualClock and move time instead
 * of sleeping.
 */

export interface Clock {
  /** Unix milliseconds. */
  now(): number;
}

/** A tick's clock: `sync()` before a claim, `now()` in between. */
export interface TickClock extends Clock {
  sync(): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The local clock shifted by `offsetMs`: a machine whose clock is off (tests). */
export function skewedClock(offsetMs: number, base: Clock = systemClock): Clock {
  return { now: () => base.now() + offsetMs };
}

/**
 * The hidden test knob for clock skew: HOOKD_TEST_CLOCK_OFFSET_MS shifts this
 * process's clock, read only in the test environment.
 */
export function localClock(env: NodeJS.ProcessEnv, environment: string): Clock {
  const offset = Number(env.HOOKD_TEST_CLOCK_OFFSET_MS ?? 0);
  return environment === "test" && Number.isFinite(offset) && offset !== 0 ? skewedClock(offset) : systemClock;
}

/**
 * The database's time, estimated between reads as the local clock plus the offset last
 * seen. It never goes back: each read is only good to a millisecond or so, and a due
 * time stamped just before a sync must not turn out to lie in the future after it.
 */
export class DatabaseClock implements TickClock {
  private offset = 0;
  private latest = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly readDatabaseTime: () => Promise<number>,
    private readonly local: Clock = systemClock,
  ) {}

  async sync(): Promise<void> {
    const before = this.local.now();
    const database = await this.readDatabaseTime();
    const after = this.local.now();
    // The read happened somewhere in between; the middle is the best guess.
    this.offset = database - (before + after) / 2;
  }

  now(): number {
    this.latest = Math.max(this.latest, Math.round(this.local.now() + this.offset));
    return this.latest;
  }
}

/** A clock that moves only when told to (tests). */
export class ManualClock implements TickClock {
  constructor(private time: number = Date.now()) {}

  async sync(): Promise<void> {}

  now(): number {
    return this.time;
  }

  set(time: number): void {
    this.time = time;
  }

  advance(ms: number): void {
    this.time += ms;
  }
}
