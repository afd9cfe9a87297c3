/**
 * One attempt of one delivery, with its webhook's settings applied: the webhook's
 * headers, its auth (dispatch/authorize.ts), its timeout and its signing scheme. The
 * tick and the API's test send both come through here.
 */
import type { Agents } from "got";
import { attemptWithAuth } from "./authorize.js";
import type { DeliverySettings } from "./deliverySettings.js";
import type { OAuthTokens } from "./oauthTokens.js";
import type { AttemptOutcome } from "./outcome.js";
import { batchRequest, sendBatch, type BatchMember } from "./batchRequest.js";
import { send } from "./request.js";

/** What an attempt is about: one event to one webhook. */
export interface AttemptTarget {
  webhookId: string;
  eventId: string;
  deliveryId: string;
  topic: string;
  body: Buffer;
  /** attempts made so far */
  attempts: number;
}

export interface AttemptContext {
  agents: Agents;
  tokens: OAuthTokens;
  /** Date.now() after which no new HTTP exchange starts (what the claim's lease still covers) */
  deadline: number;
  /** now on the clock OAuth2 token expiries are kept on */
  now: () => number;
  signal?: AbortSignal;
  /** W3C trace headers for the receiver (telemetry.propagateToReceivers), or undefined */
  trace?: Readonly<Record<string, string>>;
}

/** Never throws: every ending is an AttemptOutcome. */
export function attemptDelivery(target: AttemptTarget, settings: DeliverySettings, ctx: AttemptContext): Promise<AttemptOutcome> {
  const { signing, headers, auth, timeoutMs } = settings;
  return attemptWithAuth(
    auth,
    (authorization, timeout) =>
      send(
        {
          url: settings.url,
          ...signing,
          headers,
          authorization,
          trace: ctx.trace,
          webhookId: target.webhookId,
          eventId: target.eventId,
          deliveryId: target.deliveryId,
          topic: target.topic,
          attemptNumber: target.attempts + 1,
          body: target.body,
        },
        { timeoutMs: timeout, agents: ctx.agents, signal: ctx.signal },
      ),
    { tokens: ctx.tokens, agents: ctx.agents, timeoutMs, deadline: ctx.deadline, now: ctx.now, signal: ctx.signal },
  );
}

/** One attempt of a batch (`batch_size` > 1): one request for all its members, with the webhook's settings. */
export function attemptBatch(
  webhookId: string,
  topic: string,
  members: readonly BatchMember[],
  settings: DeliverySettings,
  ctx: AttemptContext,
): Promise<AttemptOutcome> {
  const { signing, headers, auth, timeoutMs } = settings;
  return attemptWithAuth(
    auth,
    (authorization, timeout) =>
      sendBatch(batchRequest(members, { url: settings.url, ...signing, headers, authorization, trace: ctx.trace, webhookId, topic }), {
        timeoutMs: timeout,
        agents: ctx.agents,
        signal: ctx.signal,
      }),
    { tokens: ctx.tokens, agents: ctx.agents, timeoutMs, deadline: ctx.deadline, now: ctx.now, signal: ctx.signal },
  );
}
