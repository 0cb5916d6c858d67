/**
 * What a page's main thread itself does over a stretch of time, from a Chromium trace: each task's
 * CPU time (the trace's thread time), not its wall time. On two shared cores a page's task can
 * take hundreds of ms of wall time while the thread ran for a few ms and waited for a core the
 * rest of it; the page's own work is what freezes it on a machine with cores to spare.
 */
import type { Page } from 'playwright-core';

export interface MainThreadFigures {
  /** The window traced (ms), from the main thread's first task to the end of its last. */
  windowMs: number;
  /** The renderer main thread's longest task: its CPU time and its wall time (ms). */
  longestTaskCpuMs: number;
  longestTaskWallMs: number;
  /** The main thread's CPU time over the window (ms), and as a share of it. */
  cpuMs: number;
  cpuShare: number;
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/** Traces `page`'s renderer while `during` runs (at least `minMs`), and returns its main thread's figures. */
export async function traceMainThread(page: Page, during: () => Promise<unknown>, minMs = 0): Promise<MainThreadFigures> {
  const browser = page.context().browser();
  if (!browser) throw new Error('traceMainThread: the page has no browser');
  await browser.startTracing(page, { categories: ['toplevel', '__metadata', 'blink.user_timing'] });
  // A mark made in the page names its renderer process in the trace.
  const mark = `switchboard-trace-${Math.random().toString(36).slice(2)}`;
  await page.evaluate((name) => performance.mark(name), mark);
  let trace: Buffer;
  try {
    await Promise.all([during(), new Promise((resolve) => setTimeout(resolve, minMs))]);
  } finally {
    trace = await browser.stopTracing();
  }
  const parsed = JSON.parse(trace.toString('utf8')) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const pid = events.find((e) => e.name === mark)?.pid;
  if (pid === undefined) throw new Error(`traceMainThread: the page's mark is not in the trace`);
  const tid = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === pid && e.args?.name === 'CrRendererMain')?.tid;
  if (tid === undefined) throw new Error('traceMainThread: no CrRendererMain thread in the trace');
  const tasks = events.filter((e) => e.pid === pid && e.tid === tid && e.ph === 'X' && e.name === 'ThreadControllerImpl::RunTask' && e.tdur !== undefined);
  if (tasks.length === 0) throw new Error('traceMainThread: no main-thread tasks with thread times in the trace');
  const cpuMs = tasks.reduce((sum, e) => sum + e.tdur!, 0) / 1000;
  // The window as the trace saw it (stopping the trace takes a while: not a clock read after it).
  const windowMs = (Math.max(...tasks.map((e) => e.ts + (e.dur ?? 0))) - Math.min(...tasks.map((e) => e.ts))) / 1000;
  const longest = tasks.reduce((a, b) => (b.tdur! > a.tdur! ? b : a));
  return {
    windowMs,
    longestTaskCpuMs: longest.tdur! / 1000,
    longestTaskWallMs: (longest.dur ?? 0) / 1000,
    cpuMs,
    cpuShare: cpuMs / windowMs,
  };
}
