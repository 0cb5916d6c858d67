/**
 * TLS trust in Node: an optional `ca` added to the system roots (http-fetch.ts uses it), and
 * certificate failures turned into a final CERTIFICATE_UNTRUSTED refusal. Reconnecting cannot
 * fix an untrusted certificate, so the SDK must not treat it as a network outage.
 */
import { rootCertificates } from 'node:tls';

export type CaOption = string | Buffer | (string | Buffer)[];

/** HTTP status nginx uses for certificate errors; the SDK treats 4xx (but 408/429) as final. */
export const CERTIFICATE_STATUS = 495;

const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** The system roots plus `ca` (Node's own `ca` option would replace the roots). */
export function trustedCas(ca: CaOption | undefined): (string | Buffer)[] | undefined {
  if (ca === undefined) return undefined;
  return [...rootCertificates, ...(Array.isArray(ca) ? ca : [ca])];
}

/** The certificate error code in `err` or its causes (fetch wraps the socket error), or null. */
export function certificateCode(err: unknown): string | null {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CERT_CODES.has(code)) return code;
  }
  return null;
}

/** What failed and how to fix it, for an error `certificateCode` recognised. */
export function certificateMessage(url: string, code: string): string {
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    // keep what we were given
  }
  const what =
    code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? `is not valid for the name ${host} (connect with a name the certificate lists)`
      : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
        ? 'is expired or not valid yet'
        : code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN'
          ? 'is self-signed and not trusted here'
          : 'is not signed by a trusted CA';
  return (
    `the TLS certificate of ${host} ${what} (${code}). For a self-signed Switchboard server, trust its certificate: ` +
    "NODE_EXTRA_CA_CERTS=.switchboard/tls/cert.pem node app.js, or new Switchboard({ url, ca: readFileSync('.switchboard/tls/cert.pem') }) " +
    "(the file is in the server's data directory); or serve a certificate from a public CA."
  );
}

/** The answer a refusing server would give, so the session stops instead of reconnecting. */
export function certificateRefusal(url: string, err: unknown): { status: number; body: string } | null {
  const code = certificateCode(err);
  if (code === null) return null;
  return { status: CERTIFICATE_STATUS, body: JSON.stringify({ code: 'CERTIFICATE_UNTRUSTED', message: certificateMessage(url, code) }) };
}
