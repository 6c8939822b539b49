/**
 * Telling functions the user wrote from built-in and bound ones, whose source text is only
 * `{ [native code] }` and so cannot be evaluated again.
 *
 * @module
 */

const NATIVE_BODY = /\{\s*\[native code\]\s*\}$/;
/** A source that is an expression as it is: a function or class (a method's never starts so). */
const EXPRESSION_START = /^(?:async\s+)?function\b|^class(?:\s+[\p{ID_Start}$_]|\s*\{)/u;

/**
 * The source text of a function the user wrote, as `Function.prototype.toString` gives it.
 *
 * @returns `undefined` for a built-in or bound function, or a value that is not a function.
 */
export function userSource(fn: unknown): string | undefined {
  if (typeof fn !== "function") return undefined;
  const source = Function.prototype.toString.call(fn);
  return NATIVE_BODY.test(source) ? undefined : source;
}

/** Whether `fn` is a built-in or bound function (a class included). */
export function isNativeFunction(fn: unknown): boolean {
  return typeof fn === "function" && userSource(fn) === undefined;
}

/**
 * An expression that evaluates to the function whose source text is `source`. Most sources are
 * expressions already; a shorthand method (`greet() {}`), getter or setter taken from an object
 * literal is not, and is evaluated inside an object literal again.
 */
export function functionExpression(source: string): string {
  // Most sources say so at their start; compiling one to find out costs 10–20 µs, and a
  // restore may hold thousands.
  if (EXPRESSION_START.test(source)) return `(${source}\n)`;
  try {
    // Compiles without running: only tells whether the source is an expression.
    new Function(`return (${source}\n)`);
    return `(${source}\n)`;
  } catch {
    return `Object.values(Object.getOwnPropertyDescriptors({${source}\n}))` +
      `.map((d) => d.value ?? d.get ?? d.set)[0]`;
  }
}
