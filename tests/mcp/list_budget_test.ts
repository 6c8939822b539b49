import assert from "node:assert/strict";
import { listViews } from "../../src/mcp/list_budget.ts";

const views = (items: string[], limit: number) =>
  listViews({
    items,
    limit,
    line: (s) => `- ${s}`,
    empty: "(none)",
    noun: "words",
    hint: "ask for fewer",
    structured: (kept) => ({ words: kept, at: 7 }),
  });

Deno.test("a list within the budget is whole in both views; an empty one says so", () => {
  assert.deepEqual(views(["a", "b"], 100), {
    text: "- a\n- b",
    structured: { words: ["a", "b"], at: 7 },
  });
  assert.deepEqual(views([], 100), { text: "(none)", structured: { words: [], at: 7 } });
});

Deno.test("a long list keeps, in each view, the first items that fit and says how many it left out", () => {
  const items = Array.from({ length: 10_000 }, (_, i) => `word${i}`);
  for (const limit of [300, 2_000, 20_000]) {
    const { text, structured } = views(items, limit);
    assert.ok(text.length <= limit, `${limit}: ${text.length} characters of text`);
    const json = JSON.stringify(structured);
    assert.ok(json.length <= limit, `${limit}: ${json.length} characters of JSON`);
    const lines = text.split("\n");
    const shown = lines.length - 1;
    assert.deepEqual(lines.slice(0, shown), items.slice(0, shown).map((s) => `- ${s}`));
    assert.equal(
      lines.at(-1),
      `[${
        (10_000 - shown).toLocaleString("en-US")
      } more words not shown, of 10,000: ask for fewer]`,
    );
    const kept = structured.words as string[];
    assert.deepEqual(kept, items.slice(0, kept.length));
    assert.equal(structured.omitted, 10_000 - kept.length);
    assert.equal(structured.at, 7);
    assert.match(structured.truncated as string, /more words not shown, of 10,000/);
    // Near the budget: one more item would not have fitted.
    const oneMore = { ...structured, words: items.slice(0, kept.length + 1) };
    assert.ok(JSON.stringify(oneMore).length > limit - 40, `${limit}: ${json.length}`);
  }
});
