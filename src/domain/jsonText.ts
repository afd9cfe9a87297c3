/**
 * Reading JSON text without parsing it: for the scans that run on every published event
 * (its nesting depth, the payload's own text in a request body). Pure.
 */

/**
 * Just past the closing quote of the JSON string that opens at `open` (a `"`): the next
 * quote not escaped by an odd run of backslashes, found with indexOf rather than by
 * reading each character. -1 when the string never closes (not JSON after all).
 */
export function stringEnd(text: string, open: number): number {
  for (let from = open + 1; ; ) {
    const quote = text.indexOf('"', from);
    if (quote === -1) return -1;
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === 0x5c) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}
