/**
 * A result that is a list (variables, completions) within the output budget in both views: the
 * text keeps the first items whose lines fit, the structured content the first items whose JSON
 * fits, and each says how many it left out and how to get at them. Pure.
 *
 * @module
 */

/** How a list result is made. */
export interface ListViews<T> {
  /** The items, in the order a model reads them. */
  items: readonly T[];
  /** The budget of each view, in characters (the structured one as JSON). */
  limit: number;
  /** One item's line of text. */
  line: (item: T) => string;
  /** The text when there are no items. */
  empty: string;
  /** What the items are, plural (`variables`). */
  noun: string;
  /** How to get at those left out, ending the note (e.g. `use inspect_variable`). */
  hint: string;
  /** The structured content holding `kept` (the items it keeps) in one array. */
  structured: (kept: readonly T[]) => Record<string, unknown>;
}

/**
 * The text and structured content of a list result, each within `limit` characters: when items
 * were left out, the text ends with a note and the structured content gains `omitted` (how
 * many) and `truncated` (the note). A view keeps its items in order, stopping at the first that
 * does not fit.
 */
export function listViews<T>(views: ListViews<T>): {
  text: string;
  structured: Record<string, unknown>;
} {
  const { items, limit } = views;
  if (items.length === 0) return { text: views.empty, structured: views.structured([]) };
  const note = (kept: number) =>
    `[${(items.length - kept).toLocaleString("en-US")} more ${views.noun} not shown, of ` +
    `${items.length.toLocaleString("en-US")}: ${views.hint}]`;
  // Notes at their longest (nothing kept), so whatever is kept the note fits.
  const longest = note(0);

  const lines = items.map(views.line);
  const allText = lines.join("\n");
  let text = allText;
  if (allText.length > limit) {
    const kept = fitting(lines.map((l) => l.length + 1), limit - longest.length);
    text = [...lines.slice(0, kept), note(kept)].join("\n");
  }

  const whole = views.structured(items);
  let structured = whole;
  if (JSON.stringify(whole).length > limit) {
    // An item in a JSON array costs its own JSON and a comma; the rest is what an empty list
    // and the note cost.
    const base = JSON.stringify({
      ...views.structured([]),
      omitted: items.length,
      truncated: longest,
    }).length;
    const kept = fitting(items.map((item) => JSON.stringify(item).length + 1), limit - base);
    structured = {
      ...views.structured(items.slice(0, kept)),
      omitted: items.length - kept,
      truncated: note(kept),
    };
  }
  return { text, structured };
}

/** How many of the first costs fit in `room`. */
function fitting(costs: readonly number[], room: number): number {
  let used = 0;
  for (let i = 0; i < costs.length; i++) {
    used += costs[i]!;
    if (used > room) return i;
  }
  return costs.length;
}
