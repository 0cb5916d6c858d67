/** SDP helpers for the Node peer connection (node-datachannel). */

/** `ufrag:pwd` of the first ICE credentials in an SDP, or null. */
export function iceCredentials(sdp: string | undefined): string | null {
  const ufrag = /^a=ice-ufrag:(\S+)/m.exec(sdp ?? '')?.[1];
  const pwd = /^a=ice-pwd:(\S+)/m.exec(sdp ?? '')?.[1];
  return ufrag && pwd ? `${ufrag}:${pwd}` : null;
}

/**
 * Splits `a=candidate` lines out of a remote SDP. libdatachannel hands a remote description
 * (candidates included) to ICE before it stores the description for the DTLS fingerprint
 * check, so ICE and the DTLS handshake can complete in between and the check fails ("unknown
 * CA"). Applying the candidates after the description closes that window.
 */
export function splitCandidates(sdp: string): { sdp: string; candidates: { candidate: string; mid: string }[] } {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const kept: string[] = [];
  const candidates: { candidate: string; mid: string }[] = [];
  let mid = '0';
  let section = -1;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      section += 1;
      mid = String(section);
    } else if (line.startsWith('a=mid:')) {
      mid = line.slice('a=mid:'.length).trim();
    }
    if (line.startsWith('a=candidate:')) {
      candidates.push({ candidate: line.slice(2), mid });
      continue;
    }
    if (line === 'a=end-of-candidates') continue;
    kept.push(line);
  }
  return { sdp: kept.join(eol), candidates };
}
