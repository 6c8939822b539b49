/**
 * The one minter of session and kernel ids (a default kernel's id is derived from its session's
 * in `default_kernel.ts`, in the same encoding).
 *
 * @module
 */

/** 256 random bits in base64url: unguessable, and safe as a path segment. */
export function newId(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Bytes in base64url without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}
