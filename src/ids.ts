/**
 * The one minter of session and kernel ids.
 *
 * @module
 */

/** 256 random bits in base64url: unguessable, and safe as a path segment. */
export function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}
