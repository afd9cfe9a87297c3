/**
 * The payloads a tick holds: each event's bytes once, however many of its deliveries are
 * in hand, dropped when the last of them is done (issue 28). What it holds in bytes is
 * what `dispatch.maxHeldBytes` bounds.
 *
 * A claim holds its deliveries' events before it reads the payloads it lacks: a payload
 * already here cannot be dropped, by another delivery of its event finishing, while
 * that read waits.
 */
export class HeldPayloads {
  private readonly held = new Map<string, { body: Buffer | undefined; refs: number }>();
  private total = 0;

  /** Bytes held now. */
  get bytes(): number {
    return this.total;
  }

  /** Of these events, the ones whose payload is not here yet. */
  missing(eventIds: Iterable<string>): string[] {
    const out = new Set<string>();
    for (const id of eventIds) if (this.held.get(id)?.body === undefined) out.add(id);
    return [...out];
  }

  /** The payload of an event held (put for an event no delivery holds is dropped). */
  put(eventId: string, body: Buffer): void {
    const p = this.held.get(eventId);
    if (!p || p.body !== undefined) return;
    p.body = body;
    this.total += body.length;
  }

  /** One more delivery of the event in hand. */
  hold(eventId: string): void {
    const p = this.held.get(eventId);
    if (p) p.refs++;
    else this.held.set(eventId, { body: undefined, refs: 1 });
  }

  get(eventId: string): Buffer | undefined {
    return this.held.get(eventId)?.body;
  }

  /** A delivery of the event is done with it. */
  release(eventId: string): void {
    const p = this.held.get(eventId);
    if (!p) return;
    if (--p.refs <= 0) {
      this.held.delete(eventId);
      this.total -= p.body?.length ?? 0;
    }
  }
}
