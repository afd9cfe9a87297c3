/**
 * Reading a body for `publish --file` and `verify`: from a file or stdin, as a stream.
 * A pipe's stdin may be non-blocking (a parent process set it so), and a synchronous
 * read of it fails with EAGAIN as soon as the writer is slower than the reader; a
 * stream waits. Reading stops at `limit` bytes, so a huge input is refused, not buffered.
 */
import { createReadStream } from "node:fs";
import { HookdError } from "../errors.js";

/** `file` ("-" or undefined: stdin) in full, or a HookdError naming what went wrong. */
export async function readInput(file: string | undefined, limit: number, field: string): Promise<Buffer> {
  const name = file === undefined || file === "-" ? "stdin" : file;
  const stream = name === "stdin" ? process.stdin : createReadStream(file!);
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of stream) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      bytes += buffer.length;
      if (bytes > limit) {
        throw new HookdError("payload_too_large", `${name} is too large: more than ${limit} bytes`, [
          { field, message: `is too large: more than ${limit} bytes` },
        ]);
      }
      chunks.push(buffer);
    }
  } catch (err) {
    if (err instanceof HookdError) throw err;
    const message = `cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    throw new HookdError("validation_failed", message, [{ field, message }]);
  } finally {
    if (name !== "stdin") (stream as ReturnType<typeof createReadStream>).destroy();
    // Stop reading stdin, so the process can exit even if the writer goes on.
    else process.stdin.pause();
  }
  return Buffer.concat(chunks);
}
