/**
 * The id of a session's default kernel: derived one way from the session id under a secret the
 * registry keeps, so that holding a kernel id (which any tool result shows, and which any session
 * may use) never reveals the session id, which controls the session (its requests, `DELETE`).
 * Every host of one registry derives the same id.
 *
 * @module
 */
import { encodeBase64Url } from "./ids.ts";
import type { Registry } from "./registry/registry.ts";

/** The registry's name for the secret. */
const SECRET = "default-kernel-hmac";

/** Derives default kernel ids for one registry; keeps the key once read. */
export class DefaultKernels {
  #registry: Registry;
  #key?: Promise<CryptoKey>;

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  /**
   * The default kernel of session `sessionId`: HMAC-SHA-256 of the session id, base64url (43
   * characters, like every id). A session recorded before ids were derived keeps its old default
   * kernel, whose id was the session's: pass `legacy` to say that kernel exists.
   */
  async of(sessionId: string, options: { legacy?: boolean } = {}): Promise<string> {
    if (options.legacy) return sessionId;
    const mac = await crypto.subtle.sign(
      "HMAC",
      await this.#hmacKey(),
      new TextEncoder().encode(sessionId),
    );
    return encodeBase64Url(new Uint8Array(mac));
  }

  #hmacKey(): Promise<CryptoKey> {
    this.#key ??= (async () => {
      const candidate = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
      const secret = await this.#registry.secret(SECRET, candidate);
      return await crypto.subtle.importKey(
        "raw",
        new TextEncoder().encode(secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      );
    })();
    return this.#key;
  }
}
