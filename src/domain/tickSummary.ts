/** What a tick reports: its running progress and, at the end, its summary (the CLI prints it, metrics and traces observe it). Pure data, so every layer can name it. */
export interface TickSummary {
  started_at: string;
  duration_ms: number;
  /** deliveries claimed by this tick */
  claimed: number;
  delivered: number;
  /** retry budget spent: now `failed` */
  failed: number;
  /** attempt failed, retry scheduled */
  rescheduled: number;
  /** claimed but handed back unsent (endpoint backing off, shutdown, lease too short) */
  deferred: number;
  /** probes sent to failing webhooks */
  probes: number;
  /** true when a signal stopped the tick early */
  interrupted: boolean;
  /** set when the store could not be reached and the tick gave up early */
  error: string | null;
}

export interface TickProgress {
  /** due when the tick started */
  total: number;
  delivered: number;
  failed: number;
  rescheduled: number;
  deferred: number;
}
