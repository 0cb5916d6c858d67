/**
 * pino JSON logs. Tokens never reach the logs: the server only logs paths
 * (never query strings) and never logs headers; the redact list is a second net.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

export const REDACT_PATHS = [
  'token',
  '*.token',
  'headers.authorization',
  'headers["sec-websocket-protocol"]',
  'req.headers.authorization',
  'req.headers["sec-websocket-protocol"]',
  'req.url',
];

export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { svc: 'switchboard' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

/** The path of a request URL without its query string (which may carry `?token=`). */
export function safePath(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)).slice(0, 200);
}
