/**
 * HTML as text a model can read: what a browser would show, without markup. Scripts, styles
 * and comments go; blocks, line breaks and table rows become lines (blank ones dropped), cells
 * are separated by ` | `, list items start with `- `, and character references are decoded.
 *
 * @module
 */

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
};

const BLOCKS = "address|article|aside|blockquote|caption|dd|div|dl|dt|figcaption|figure|footer|" +
  "form|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|table|tbody|thead|tfoot|tr|ul";

/**
 * The text of an HTML fragment.
 *
 * @example
 * ```ts
 * htmlText("<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>");
 * // "a | b\n1 | 2"
 * ```
 */
export function htmlText(html: string): string {
  const text = html
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<(script|style|head|template)\b[\s\S]*?<\/\1\s*>/gi, "")
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<li\b[^>]*>/gi, "\n- ")
    .replace(/<\/(td|th)\s*>\s*(?=<(td|th)\b)/gi, " | ")
    .replace(new RegExp(`</?(${BLOCKS})\\b[^>]*>`, "gi"), "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, decode);
  return text
    .split("\n")
    .map((line) => line.replace(/[ \t\f\r]+/g, " ").trim())
    .filter((line) => line !== "")
    .join("\n");
}

function decode(reference: string, name: string): string {
  if (name[0] === "#") {
    const code = name[1] === "x" || name[1] === "X"
      ? parseInt(name.slice(2), 16)
      : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : reference;
  }
  return ENTITIES[name.toLowerCase()] ?? reference;
}
