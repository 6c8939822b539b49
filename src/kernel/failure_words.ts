/**
 * The words for how a cell or a kernel ended badly: stopped by its own interrupt, restarted
 * after not answering, or dead (out of memory, crashed). Each error names what happened and
 * whether anything was lost.
 *
 * @module
 */
import type { ErrorInfo } from "./protocol.ts";
import { describe, type SandboxExit } from "./sandbox_process.ts";

/**
 * The error of a cell the kernel stopped itself (`kept`, nothing lost; `moved`, when the kernel
 * then moved to a fresh process and `lost` names what could not follow) or one that was cancelled
 * before it started.
 */
export function interruptError(
  status: "timeout" | "cancelled",
  timeoutMs: number,
  how: "kept" | "moved" | "before it started",
): ErrorInfo {
  const kept = how === "moved"
    ? "; it was interrupted and the kernel kept its variables (effects of the cell before it " +
      "stopped stay) except those lost names: the kernel then moved to a fresh process, which " +
      "they could not follow"
    : "; it was interrupted and the kernel kept every variable (effects of the cell before it " +
      "stopped stay), nothing was lost";
  const message = how === "before it started"
    ? "The cell was cancelled before it started; it did not run"
    : status === "timeout"
    ? `The cell did not finish within ${formatSeconds(timeoutMs)}${kept}`
    : `The cell was cancelled${kept}`;
  const name = status === "timeout" ? "KernelTimeoutError" : "KernelInterruptError";
  return { name, message, stack: `${name}: ${message}` };
}

/**
 * The error of a cell the host interrupted because it shut down while the cell ran past its
 * grace (`started`), or before the cell, queued, could start.
 */
export function shutdownInterruptError(graceMs: number, started: boolean): ErrorInfo {
  const message = started
    ? `The host shut down and the cell was still running after its grace of ` +
      `${formatSeconds(graceMs)}: it was interrupted, and the kernel kept every variable ` +
      "(effects of the cell before it stopped stay), which the host saves before it exits; " +
      "run what remains of the cell again once the host is back"
    : "The host shut down before the cell could start; it did not run: run it again once the " +
      "host is back";
  return { name: "KernelInterruptError", message, stack: `KernelInterruptError: ${message}` };
}

/** The failure of a request whose kernel did not answer in time and was restarted. */
export function unansweredFailure(
  status: "timeout" | "cancelled",
  timeoutMs: number,
  interruptible: boolean,
): { status: "timeout" | "cancelled"; error: ErrorInfo } {
  const restarted = "; the kernel was stopped and restarted";
  const message = status === "cancelled"
    ? "The cell was cancelled but kept running (synchronous code cannot be interrupted)" +
      restarted
    : `The ${interruptible ? "cell" : "request"} did not finish within ` +
      formatSeconds(timeoutMs) + (interruptible ? " and did not stop when interrupted" : "") +
      restarted;
  const name = status === "timeout" ? "KernelTimeoutError" : "KernelInterruptError";
  return { status, error: { name, message, stack: `${name}: ${message}` } };
}

/** The failure of a request whose kernel died: out of memory, or crashed. */
export function deathFailure(
  exit: SandboxExit,
  limitMb: number,
): { status: "killed"; error: ErrorInfo } {
  const outOfMemory = exit.memoryRssBytes !== undefined ||
    /out of memory|heap limit/i.test(exit.stderrTail);
  const message = outOfMemory
    ? `The kernel exceeded its memory limit of ${limitMb} MB` +
      (exit.memoryRssBytes ? ` (resident ${Math.round(exit.memoryRssBytes / 2 ** 20)} MB)` : "") +
      `; it was stopped and restarted`
    : `The kernel process died (${describe(exit)}); it was restarted`;
  const name = outOfMemory ? "KernelMemoryError" : "KernelCrashError";
  return { status: "killed", error: { name, message, stack: `${name}: ${message}` } };
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
