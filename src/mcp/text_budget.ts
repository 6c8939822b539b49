/**
 * The budget of text one result gives a model (about 20,000 characters by default, the
 * `--output-limit` flag): how a text is cut, with a note saying how much was left out and how to
 * get the rest, and how one budget is shared among a result's texts so that a long output
 * cannot push the value or the error out of view. Pure functions of strings and numbers.
 *
 * @module
 */
import { DROPPED_NOTE } from "../kernel/output_buffer.ts";

/** Characters of text per result unless the host is configured otherwise (DESIGN.md section 2). */
export const OUTPUT_LIMIT = 20_000;

/**
 * What a result whose text was cut says once, after the cuts: how to get the rest. Pure.
 *
 * @param limit The budget the text was cut to.
 */
export function cutHint(limit: number): string {
  return `[Text beyond ${limit.toLocaleString("en-US")} characters per result was cut. To see ` +
    "more, write it to a file in the kernel's scratch folder (the working directory), e.g. " +
    '`await Deno.writeTextFile("out.txt", text)`, and print parts of it, or print a slice.]';
}

/**
 * `text` within about `limit` characters: whole when it fits; else its head and a note of how
 * many characters were left out, the note counted in the limit where the limit leaves room. A
 * kernel's note that it dropped output (`output_buffer.ts`) at the end is kept after the cut, so
 * the text still says that more was printed than it holds.
 *
 * @example
 * ```ts
 * cut("abcdef", 4); // "\n[truncated: 6 more characters of 6]"
 * ```
 */
export function cut(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const tail = DROPPED_NOTE.exec(text)?.[0] ?? "";
  const body = text.slice(0, text.length - tail.length);
  const n = (x: number) => x.toLocaleString("en-US");
  const note = (left: number) => `[truncated: ${n(left)} more characters of ${n(body.length)}]`;
  const room = Math.max(0, limit - note(body.length).length - 1 - tail.length);
  return `${body.slice(0, room)}\n${note(body.length - room)}${tail}`;
}

/** `text` within about `limit` characters, as {@linkcode cut}, with the {@linkcode cutHint}. */
export function truncate(text: string, limit = OUTPUT_LIMIT): string {
  if (text.length <= limit) return text;
  const hint = cutHint(limit);
  return `${cut(text, limit - hint.length - 1)}\n${hint}`;
}

/**
 * How many characters each of some texts, `lengths` long, may keep so that together they stay
 * within `limit`: a text shorter than an equal share keeps all of it, and what it leaves is
 * shared among the longer ones (each gets at least 0).
 *
 * @example
 * ```ts
 * shareBudget([10, 500, 2000], 1000); // [10, 495, 495]
 * ```
 */
export function shareBudget(lengths: readonly number[], limit: number): number[] {
  const shares = lengths.map(() => 0);
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]!);
  let left = limit;
  order.forEach((index, rank) => {
    const share = Math.floor(left / (order.length - rank));
    shares[index] = Math.min(lengths[index]!, share);
    left -= shares[index]!;
  });
  return shares;
}

/**
 * Texts cut so that together they stay within about `limit` characters (see
 * {@linkcode shareBudget}), each with its note where it was cut, followed by the
 * {@linkcode cutHint} as one more text when any was cut.
 */
export function truncateAll(texts: readonly string[], limit = OUTPUT_LIMIT): string[] {
  const total = texts.reduce((sum, t) => sum + t.length, 0);
  if (total <= limit) return [...texts];
  const hint = cutHint(limit);
  // The hint and the line breaks that join the texts count in the budget.
  const shares = shareBudget(texts.map((t) => t.length), limit - hint.length - texts.length);
  return [...texts.map((t, i) => cut(t, shares[i]!)), hint];
}
