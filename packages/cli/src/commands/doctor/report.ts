/**
 * The doctor's report: one `Check` per finding, collected in order, and the plain-text
 * rendering the CLI prints (each check as it lands, then what to fix and a summary).
 */
import type { Address } from '../stun-client.js';

export type Status = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  /** Stable id, e.g. "http", "auth", "websocket", "ice", "stun", "turn", "turn-native", "relay". */
  id: string;
  name: string;
  status: Status;
  detail: string;
  /** What to do about a warning or failure. */
  fix?: string;
  /** Measured duration, when it means something. */
  ms?: number;
  /** Machine-readable cause for failures, e.g. "unreachable", "credentials-expired", "credentials-rejected". */
  cause?: string;
}

export interface DoctorReport {
  url: string;
  ok: boolean;
  checks: Check[];
  failures: number;
  warnings: number;
}

/** What every check needs: where the server is, how to reach it, and where its findings go. */
export interface CheckContext {
  base: URL;
  insecure: boolean;
  /** Trusted CAs: the system roots plus --ca (or the local data dir's certificate); undefined: the system roots. */
  ca?: string[];
  /** Where the extra CA came from, to name it in TLS problems. */
  caFile?: string | null;
  timeoutMs: number;
  add(check: Check): void;
}

/** Collects checks in order and passes each on as it lands (the CLI prints progress from it). */
export class CheckList {
  private readonly checks: Check[] = [];

  constructor(private readonly onCheck?: (check: Check) => void) {}

  add(check: Check): void {
    this.checks.push(check);
    this.onCheck?.(check);
  }

  report(url: string): DoctorReport {
    const failures = this.checks.filter((c) => c.status === 'fail').length;
    return { url, ok: failures === 0, checks: this.checks, failures, warnings: this.checks.filter((c) => c.status === 'warn').length };
  }
}

export const fmtMs = (ms: number) => (ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`);
export const fmtAddr = (a: Address | null) => (a ? (a.family === 6 ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`) : '?');

export function fmtDuration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(s < 36000 ? 1 : 0)} h`;
}

const TAG: Record<Status, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

export function formatCheck(check: Check): string {
  return `  ${TAG[check.status]}  ${check.name}: ${check.detail}\n`;
}

export function formatReport(report: DoctorReport, header = true): string {
  let out = header ? `Switchboard doctor: ${report.url}\n` : '';
  if (header) for (const check of report.checks) out += formatCheck(check);
  const fixes = report.checks.filter((c) => (c.status === 'fail' || c.status === 'warn') && c.fix);
  if (fixes.length > 0) {
    out += '\nWhat to fix:\n';
    for (const c of fixes) out += `  - ${c.name}: ${c.fix}\n`;
  }
  out += `\n${report.ok ? 'OK' : 'FAILED'}: ${report.checks.filter((c) => c.status === 'ok').length} passed, ${report.failures} failed, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}.\n`;
  return out;
}
