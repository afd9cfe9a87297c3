/**
 * What the contenders that are not hookd send: the very deliveries of the bench
 * database (same URLs, same bodies), with the same SPEC headers, signed per request
 * as hookd signs them. Used by the bare loops and by the peers.
 */
import got, { type Agents } from "got";
import { openStore } from "../../dist/store/connect.js";
import { deliveryHeaders } from "../../dist/dispatch/request.js";
import { DISPATCH, SECRET } from "./fixtures.js";

export interface Job {
  deliveryId: string;
  eventId: string;
  webhookId: string;
  topic: string;
  url: string;
  payload: string;
  attempt: number;
}

/** Every pending delivery of a bench database, in due order. */
export async function loadJobs(dbFile: string): Promise<Job[]> {
  const store = await openStore({ url: dbFile });
  try {
    const rows = await store.db
      .selectFrom("deliveries as d")
      .innerJoin("events as e", "e.id", "d.event_id")
      .innerJoin("webhooks as w", "w.id", "d.webhook_id")
      .select(["d.id", "d.event_id", "d.webhook_id", "d.attempts", "e.topic", "e.payload", "w.url"])
      .where("d.status", "=", "pending")
      .orderBy("d.next_attempt_at")
      .execute();
    return rows.map((r) => ({
      deliveryId: r.id,
      eventId: r.event_id,
      webhookId: r.webhook_id,
      topic: r.topic,
      url: r.url,
      payload: r.payload,
      attempt: r.attempts + 1,
    }));
  } finally {
    await store.close();
  }
}

/** The request hookd would send for this job, headers signed now. */
export function requestFor(job: Job): { body: Buffer; headers: Record<string, string> } {
  const body = Buffer.from(job.payload, "utf8");
  const headers = deliveryHeaders(
    {
      url: job.url,
      body,
      secret: SECRET,
      webhookId: job.webhookId,
      eventId: job.eventId,
      deliveryId: job.deliveryId,
      topic: job.topic,
      attemptNumber: job.attempt,
    },
    Date.now(),
  );
  return { body, headers };
}

export interface PostResult {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

/** POST a job with got the plain way (promise API), hookd's agent and timeout settings. */
export async function postWithGot(job: Job, agents: Agents): Promise<PostResult> {
  const started = Date.now();
  const { body, headers } = requestFor(job);
  try {
    const res = await got.post(job.url, {
      body,
      headers,
      agent: agents,
      timeout: { request: DISPATCH.timeoutMs },
      retry: { limit: 0 },
      followRedirect: false,
      throwHttpErrors: false,
      decompress: false,
    });
    return { statusCode: res.statusCode, durationMs: Date.now() - started, error: null };
  } catch (err) {
    return { statusCode: null, durationMs: Date.now() - started, error: (err as Error).message };
  }
}

/** Run `work` over the jobs with `concurrency` workers pulling from one shared index. */
export async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
