/**
 * Who this process is among the hosts of a shared registry: the lease holder id it writes, and
 * how it recognizes its own leases from an earlier run. The id names the machine, the port (or
 * `stdio`) and the process, so that an operator reading "running on another host (…)" knows
 * where to look; a random part keeps two runs apart (a restarted host is another holder: its
 * predecessor's leases must expire or be released before it takes them).
 *
 * @module
 */
import { hostname } from "node:os";
import { encodeBase64Url } from "./ids.ts";

/** This process's holder id and the test for holder ids of earlier runs of the same host. */
export interface HostIdentity {
  holder: string;
  formerSelf: (holder: string) => boolean;
}

/**
 * The identity of this process: `<machine>:<port> pid <pid> <random>`, e.g.
 * `web-3:8000 pid 4242 q1Xc0bF9`.
 *
 * @param where The HTTP port, or `"stdio"`.
 */
export function hostIdentity(where: number | "stdio"): HostIdentity {
  const key = `${hostname()}:${where}`;
  const random = encodeBase64Url(crypto.getRandomValues(new Uint8Array(6)));
  return {
    holder: `${key} pid ${Deno.pid} ${random}`,
    formerSelf: (holder) => holder.startsWith(`${key} pid `),
  };
}
