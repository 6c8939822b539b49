/**
 * Bringing a kernel back from its freshest good snapshot, and the words for what did not come
 * back. A snapshot that fails to load is quarantined (kept, flagged, never used again) and the
 * next older one is tried in a fresh sandbox; one whose sandbox crashed while loading it is
 * tried once more first.
 *
 * @module
 */
import type { RestartControl, RestartOutcome } from "../kernel/kernel_handle.ts";
import type { KernelRecord, Registry, SkippedItem } from "../registry/registry.ts";

/** What a result should say about how its kernel came back. */
export interface Notice {
  /** See `ExecuteResult.restoredFrom` (`unchecked`: a caveat, apart from `lost`). */
  restoredFrom?: { version: number; savedAt: number; unchecked?: string };
  lost?: string;
  /**
   * What the snapshot restored carried of an earlier loss no client was sure to have heard of
   * (see `NewSnapshot.untoldLoss`), in words to say again.
   */
  carried?: string;
}

/** How words said again from a snapshot begin (once, however often they are carried). */
const SAID_AGAIN = "from an earlier restore (said again, its reply may not have arrived): ";

/** Where recovery reads snapshots and reports problems. */
export interface RecoveryOptions {
  now: () => number;
  log: (message: string) => void;
}

/**
 * Restores the newest snapshot of `kernelId` in `store` that loads into the kernel `control`
 * drives. Returns what was restored and, in words, what was not.
 */
export async function restoreLatest(
  store: Registry,
  kernelId: string,
  control: RestartControl,
  options: RecoveryOptions,
): Promise<Notice> {
  const notes: string[] = [];
  const candidates = (await store.listSnapshots(kernelId)).filter((s) => !s.quarantined);
  const recorded = await store.getKernel(kernelId);
  for (let i = 0, crashes = 0; i < candidates.length; i++) {
    const meta = candidates[i]!;
    const snapshot = await store.loadSnapshot(kernelId, meta.version);
    try {
      if (!snapshot) throw new Error("its body is missing");
      const report = await control.restore(snapshot.body);
      // A loss found before this snapshot was taken, that no client was sure to have heard of:
      // the snapshot is numbered past the lost cells, so the cell log below cannot name them.
      const carried = meta.untoldLoss?.words;
      // What the save left out is lost as surely as what the restore could not rebuild; what
      // it saved without looking into came back, and is said apart, as a caveat.
      const all = [...meta.skipped, ...report.skipped];
      const skipped = all.filter((item) => !isUnchecked(item));
      const unchecked = all.filter(isUnchecked);
      if (skipped.length > 0) notes.push(`not fully restored: ${describeSkipped(skipped)}`);
      const cells = await lostCells(store, kernelId, meta.executionCount, recorded);
      if (cells) notes.push(cells);
      return {
        restoredFrom: {
          version: meta.version,
          savedAt: meta.savedAt,
          ...(unchecked.length > 0 && { unchecked: describeSkipped(unchecked) }),
        },
        lost: notes.length > 0 ? notes.join("; ") : undefined,
        ...(carried &&
          { carried: carried.startsWith(SAID_AGAIN) ? carried : SAID_AGAIN + carried }),
      };
    } catch (error) {
      const reason = (error as Error).message;
      if (crashedOnce(error as Error, crashes++)) {
        // A sandbox that died while loading (a V8 or Deno panic, rare and not the body's fault)
        // gets one more try in a fresh sandbox before a sound snapshot is quarantined for ever.
        options.log(
          `a kernel's sandbox died loading snapshot version ${meta.version}, trying it once more: ` +
            reason,
        );
        await control.restart();
        i--;
        continue;
      }
      crashes = 0;
      await store.quarantineSnapshot(kernelId, meta.version, reason, options.now());
      options.log(`snapshot version ${meta.version} of a kernel failed to load: ${reason}`);
      notes.push(
        `snapshot version ${meta.version} (saved ${new Date(meta.savedAt).toISOString()}) ` +
          `failed to load and was quarantined: ${reason}`,
      );
      await control.restart();
    }
  }
  // No snapshot loaded: whatever the kernel ran is gone, and is said, even at a host's start.
  const cells = await lostCells(store, kernelId, 0, recorded);
  if (cells) notes.push(cells);
  return { lost: notes.length > 0 ? notes.join("; ") : undefined };
}

/**
 * Whether a restore's failure is a first crash of its sandbox (`crashes` before it): one that
 * ran out of memory, or a body refused, fails the same way again.
 */
function crashedOnce(error: Error, crashes: number): boolean {
  return crashes === 0 && error.name === "KernelCrashError";
}

/**
 * Whether a save's item names what came back unchecked rather than lost: flagged so, or, in a
 * snapshot saved before the flag, by its words.
 */
function isUnchecked(item: SkippedItem): boolean {
  return item.unchecked === true ||
    / were saved without checking for captured variables or private fields$/.test(item.reason);
}

/**
 * The words for the cells run after execution count `after`, which a restore from a snapshot
 * taken then loses: their numbers and the variables they declared (from the registry's cell
 * log, written as each cell ran), else the count the kernel record holds; after a save, also
 * that what they changed in earlier variables is undone (`small.v = 2` in a lost cell leaves
 * `small` as the save had it, which naming only the declared variables would hide).
 */
async function lostCells(
  store: Registry,
  kernelId: string,
  after: number,
  recorded: KernelRecord | undefined,
): Promise<string | undefined> {
  const cells = await store.cellsAfter(kernelId, after);
  const last = Math.max(cells.at(-1)?.cell ?? 0, recorded?.executionCount ?? 0);
  if (last <= after) return undefined;
  const names = [...new Set(cells.flatMap((c) => c.declared))];
  const shown = names.length > 20 ? [...names.slice(0, 20), `${names.length - 20} more`] : names;
  const when = after === 0 ? "before any save" : "after the last save";
  const one = last === after + 1;
  return (one
    ? `cell ${last} ran ${when} and was lost`
    : `cells ${after + 1}–${last} ran ${when} ` +
      "and were lost") +
    (names.length > 0
      ? `, with the variables ${one ? "it" : "they"} declared: ${shown.join(", ")}`
      : "") +
    (after === 0
      ? ""
      : `; any change ${one ? "it" : "they"} made to earlier variables is undone too ` +
        "(they hold their values of the last save)");
}

/** The words for a kernel that died and came back as `notice` says. */
export function describeRestart(notice: Notice): RestartOutcome {
  const lost = notice.restoredFrom
    ? `changes made after the last save (${new Date(notice.restoredFrom.savedAt).toISOString()})`
    : "all variables: there was no saved state to restore";
  return {
    restoredFrom: notice.restoredFrom,
    lost: notice.lost ? `${lost}; ${notice.lost}` : lost,
  };
}

/**
 * The skipped items in words, grouped by variable so that every variable is named (up to 20):
 * one item by path and reason, several by their count and the first one.
 */
export function describeSkipped(items: SkippedItem[]): string {
  const byVariable = new Map<string, SkippedItem[]>();
  for (const item of items) {
    const name = /^[^.[]*/.exec(item.path)![0];
    const group = byVariable.get(name);
    if (group) group.push(item);
    else byVariable.set(name, [item]);
  }
  // A variable lost as a whole is said first, before what was lost inside it.
  const groups = [...byVariable].map(([name, group]) => {
    const whole = group.findIndex((item) => item.path === name);
    return whole <= 0 ? group : [group[whole]!, ...group.filter((_, i) => i !== whole)];
  });
  const shown = groups.slice(0, 20).map(([first, ...rest]) =>
    rest.length === 0
      ? `${first!.path} (${first!.reason})`
      : `${first!.path} (${first!.reason}) and ${rest.length} more parts of it`
  ).join(", ");
  return groups.length > 20 ? `${shown} and ${groups.length - 20} more variables` : shown;
}
