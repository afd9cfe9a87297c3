/**
 * The payloads a tick holds: each event's bytes once, however many of its deliveries are
 * in hand, dropped when the last of them is done (issue 28). What it holds in bytes is
 * what `dispatch.maxHeldBytes` bounds.
 */
export class HeldPayloads {
  private readonly held = new Map<string, { body: Buffer; refs: number }>();
  private total = 0;

  /** Bytes held now. */
  get bytes(): number {
    return this.total;
  }

  /** Of these events, the ones whose payload is not held. */
  missing(eventIds: Iterable<string>): string[] {
    const out = new Set<string>();
    for (const id of eventIds) if (!this.held.has(id)) out.add(id);
    return [...out];
  }

  put(eventId: string, body: Buffer): void {
    if (this.held.has(eventId)) return;
    this.held.set(eventId, { body, refs: 0 });
    this.total += body.length;
  }

  /** One more delivery of the event in hand. */
  hold(eventId: string): void {
    const p = this.held.get(eventId);
    if (p) p.refs++;
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
      this.total -= p.body.length;
    }
  }
}
