/**
 * A form's errors by the fields they name: each detail of an API error (400 or 422,
 * `{field, message}`) goes under the control that answers for its field, in the API's
 * own words, and the control says it is invalid and is described by it. A control
 * answers for its field and everything under it (`headers` for `headers.X-A`, `filter`
 * for `filter.$or[0]["total"].$gt`).
 */
import type { ErrorDetail } from "./api.js";
import { type Child, field, h, replace } from "./dom.js";

interface Slot {
  field: string;
  label: string;
  control: HTMLElement;
  note: HTMLElement;
}

let made = 0;

export class FieldErrors {
  private readonly slots: Slot[] = [];

  /** A labelled field (dom.field) answering for the API's `apiField`, with its error line below it. */
  field(apiField: string, label: string, control: HTMLElement, hint?: string): Child[] {
    const note = h("p", { class: "field-error", id: `field-error-${++made}`, hidden: true });
    this.slots.push({ field: apiField, label, control, note });
    return [field(label, control, hint), note];
  }

  /** `apiField` is shown at the field already made for `shownAt` (`group` and `action` at the topic). */
  also(apiField: string, shownAt: string): void {
    const slot = this.slots.find((s) => s.field === shownAt);
    if (slot) this.slots.push({ ...slot, field: apiField });
  }

  /** The slot of the longest field name that `apiField` is, or starts with (then `.` or `[`). */
  private slotOf(apiField: string): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) {
      const under = apiField === s.field || apiField.startsWith(`${s.field}.`) || apiField.startsWith(`${s.field}[`);
      if (under && (!best || s.field.length > best.field.length)) best = s;
    }
    return best;
  }

  /** What is under the slot's own field: `Connection` in `headers.Connection`, item 2 for `retry_delays_seconds.1`. */
  private static rest(slot: Slot, apiField: string): string {
    const rest = apiField.slice(slot.field.length).replace(/^\./, "");
    return /^\d+$/.test(rest) ? `item ${Number(rest) + 1}` : rest;
  }

  /** The label a detail is shown under in a summary: "Custom headers (Connection)". */
  labelOf(apiField: string): string {
    const slot = this.slotOf(apiField);
    if (!slot) return apiField;
    const rest = FieldErrors.rest(slot, apiField);
    return rest ? `${slot.label} (${rest})` : slot.label;
  }

  clear(): void {
    for (const { control, note } of this.slots) {
      replace(note);
      note.hidden = true;
      control.removeAttribute("aria-invalid");
      control.removeAttribute("aria-describedby");
    }
  }

  /**
   * Each detail under its field; a field inside a closed `<details>` opens it, and the
   * first field named takes focus. Returns the labels for the summary (api.problemText).
   */
  show(details: readonly ErrorDetail[]): Record<string, string> {
    this.clear();
    const labels: Record<string, string> = {};
    let first: HTMLElement | undefined;
    for (const d of details) {
      const slot = this.slotOf(d.field);
      if (!slot) continue;
      labels[d.field] = this.labelOf(d.field);
      const rest = FieldErrors.rest(slot, d.field);
      slot.note.append(h("span", {}, rest ? `${rest}: ${d.message}` : d.message));
      slot.note.hidden = false;
      slot.control.setAttribute("aria-invalid", "true");
      slot.control.setAttribute("aria-describedby", slot.note.id);
      slot.note.closest("details")?.setAttribute("open", "");
      // The first in the page, whatever order the API named them in.
      if (!first || first.compareDocumentPosition(slot.control) & Node.DOCUMENT_POSITION_PRECEDING) first = slot.control;
    }
    first?.focus();
    return labels;
  }
}
