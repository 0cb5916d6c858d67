/**
 * A bad network inside a test namespace without netem (these kernels have none): UDP leaving
 * through `device` goes through an htb class at `rate` with a queue of a few packets, so a call
 * that sends more than that loses packets (tail drop) and waits in the queue (longer round trips),
 * like a congested uplink. TCP (signaling) is left alone. Undo with `restoreUdp`.
 */
import type { Netns } from '@switchboard/test-utils';

export function throttleUdp(ns: Netns, rate: string, queuePackets = 4, device = 'lo'): void {
  ns.exec('tc', ['qdisc', 'add', 'dev', device, 'root', 'handle', '1:', 'htb', 'default', '20']);
  ns.exec('tc', ['class', 'add', 'dev', device, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', rate, 'ceil', rate]);
  ns.exec('tc', ['class', 'add', 'dev', device, 'parent', '1:', 'classid', '1:20', 'htb', 'rate', '10gbit']);
  ns.exec('tc', ['qdisc', 'add', 'dev', device, 'parent', '1:10', 'handle', '10:', 'pfifo', 'limit', String(queuePackets)]);
  ns.exec('tc', [
    'filter',
    'add',
    'dev',
    device,
    'parent',
    '1:',
    'protocol',
    'ip',
    'prio',
    '1',
    'u32',
    'match',
    'ip',
    'protocol',
    '17',
    '0xff',
    'flowid',
    '1:10',
  ]);
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
