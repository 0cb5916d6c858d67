import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createServer } from '../src/index.js';
import { LOG_LEVEL, SECRET, tempDir, useCleanup } from './helpers.js';

useCleanup();

function peerFingerprint(url: string, ca: string): Promise<{ fingerprint: string; status: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/healthz`, { ca }, (res) => {
      const socket = res.socket as TLSSocket;
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ fingerprint, status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS', () => {
  it('generates a self-signed certificate once (localhost + 127.0.0.1 SANs) and reuses it across restarts', async () => {
    const dataDir = tempDir();
    const fingerprints: string[] = [];
    for (let run = 0; run < 2; run++) {
      const server = createServer({ dataDir, auth: { secrets: [SECRET] }, logLevel: LOG_LEVEL });
      const address = await server.listen(0, '127.0.0.1');
      try {
        expect(address.protocol).toBe('https');
        expect(address.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const ca = readFileSync(address.certPath!, 'utf8');
        const x509 = new X509Certificate(ca);
        expect(x509.subjectAltName).toContain('DNS:localhost');
        expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
        // Verified against the generated certificate as CA (no rejectUnauthorized: false).
        const seen = await peerFingerprint(address.url.replace('127.0.0.1', 'localhost'), ca);
        expect(seen.status).toBe(200);
        expect(seen.fingerprint).toBe(address.fingerprint);
        fingerprints.push(seen.fingerprint);

        const token = await server.issueToken({ user_id: 'tls-user' });
        const ws = new WebSocket(address.realtimeUrl, ['switchboard.v1', `bearer.${token}`], { ca });
        const welcome = await new Promise<{ type: string }>((resolve, reject) => {
          ws.once('message', (d) => resolve(JSON.parse(d.toString())));
          ws.once('error', reject);
        });
        expect(welcome.type).toBe('welcome');
        ws.close();
        await new Promise((r) => ws.once('close', r));
      } finally {
        await server.close();
      }
    }
    expect(fingerprints[0]).toBe(fingerprints[1]);
  });
});
