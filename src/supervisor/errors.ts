/**
 * The errors the supervisor throws that callers are expected to catch.
 *
 * @module
 */

/** Thrown when every live kernel stayed busy for the whole capacity wait. */
export class CapacityError extends Error {
  /** @param message Says how many kernels are busy and for how long we waited. */
  constructor(message: string) {
    super(message);
    this.name = "CapacityError";
  }
}

/** Thrown for a kernel id that is unknown or closed. */
export class KernelNotFoundError extends Error {
  /** @param id The kernel id asked for. */
  constructor(id: string) {
    super(`No kernel with id "${id}": it was never created here, or it was closed`);
    this.name = "KernelNotFoundError";
  }
}

/** Thrown for a request that arrives while the host shuts down. */
export class ShuttingDownError extends Error {
  constructor() {
    super("The host is shutting down; try again after it restarts");
    this.name = "ShuttingDownError";
  }
}

/**
 * Thrown when another live host holds a kernel's lease and did not hand it over in time (a
 * long cell, say): retryable. Names the holder and when its lease runs out unless renewed.
 */
export class KernelLeasedError extends Error {
  /** The host that holds the kernel. */
  readonly holder: string;
  /** When its lease ends unless renewed, ms since the epoch by the registry's clock. */
  readonly expiresAt: number;

  /**
   * @param id The kernel id asked for.
   * @param waitedMs How long this host waited for the holder to hand the kernel over.
   */
  constructor(id: string, holder: string, expiresAt: number, waitedMs: number) {
    super(
      `Kernel ${id} is running on another host (${holder}), which did not hand it over within ` +
        `${Math.round(waitedMs / 1000)} s (it may be running a long cell); its lease runs until ` +
        `${new Date(expiresAt).toISOString()} unless renewed. Retry in a few seconds: the call ` +
        `is safe to repeat, and the kernel's state is kept`,
    );
    this.name = "KernelLeasedError";
    this.holder = holder;
    this.expiresAt = expiresAt;
  }
}
