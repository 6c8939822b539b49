/**
 * Leasing policy for a registry shared by several hosts: a kernel runs on at most one host, the
 * holder of its lease (see `LeaseFence` in the registry). The supervisor takes a kernel's lease
 * before starting it (lazily, on its first request, so the host the balancer chose takes it),
 * renews the leases of its live kernels in one call about every second, and releases a lease
 * after the kernel's final save when it stops. A kernel whose lease another host asks for is
 * handed over: saved, stopped, released. A host that loses a lease stops that kernel at once
 * without saving.
 *
 * @module
 */

/** How a supervisor leases its kernels; absent from its options: no leases (one host). */
export interface LeaseOptions {
  /** This process's holder id, unique among the registry's hosts (see `host_id.ts`). */
  holder: string;
  /** How long a lease lasts without renewal (`--lease-ttl`), in ms. */
  ttlMs: number;
  /**
   * How long a request waits for a kernel leased by another host: for the holder to hand it
   * over, or for a dead holder's lease to expire (default {@linkcode handoverWaitMs}).
   */
  handoverWaitMs?: number;
  /**
   * Whether a lease's last holder was this host in an earlier run (same machine and port): at
   * start, rehydration takes only those kernels (and kernels never leased). Default: any.
   */
  formerSelf?: (holder: string) => boolean;
}

/** How often a request asks again for a lease it waits for, in ms. */
export const LEASE_POLL_MS = 200;

/**
 * How often live kernels' leases are renewed: every second, or every third of the lease when it
 * is shorter than 3 s, so that two renewals can fail before a lease runs out, and a handover
 * request is seen within about a second.
 */
export function renewEveryMs(ttlMs: number): number {
  return Math.min(1000, ttlMs / 3);
}

/**
 * The default wait for a kernel another host holds: one lease length and a second, by which a
 * dead holder's lease has surely expired, and a live one has had time to save and hand over.
 */
export function handoverWaitMs(ttlMs: number): number {
  return ttlMs + 1000;
}
