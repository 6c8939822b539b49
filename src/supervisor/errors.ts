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
