/**
 * A bad network inside a test namespace without netem (these kernels have none): UDP leaving
 * through `device` goes through an htb class at `rate` with a queue of a few packets, so a call
 * that sends more than that loses packets (tail drop) and waits in the queue (longer round trips),
 * like a congested uplink. TCP (signaling) is left alone. Undo with `restoreUdp`.
 */
import { shapeUdp, type Netns } from '@switchboard/test-utils';

export function throttleUdp(ns: Netns, rate: string, queuePackets = 4, device = 'lo'): void {
  shapeUdp(ns, rate, queuePackets, device);
}

/** Packets the throttle dropped so far (from `tc -s`), to report how lossy it was. */
export function droppedPackets(ns: Netns, device = 'lo'): number {
  const out = ns.tryExec('tc', ['-s', 'qdisc', 'show', 'dev', device]).stdout;
  const match = /qdisc pfifo 10:[\s\S]*?dropped (\d+)/.exec(out);
  return match ? Number(match[1]) : 0;
}

export function restoreUdp(ns: Netns, device = 'lo'): void {
  ns.tryExec('tc', ['qdisc', 'del', 'dev', device, 'root']);
}
