/**
 * Why ICE found no path, in words: what a peer session saw while gathering and checking
 * (TURN configured or not, relay candidates on either side, TURN errors such as 401 or 701)
 * turned into the hint of the RTC_ICE_FAILED error.
 */

const TURN_URL = /^turns?:/i;
const RELAY = / typ relay( |$)/;

function urlsOf(config: RTCConfiguration): string[] {
  return (config.iceServers ?? []).flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]));
}

export class IceDiagnosis {
  readonly turnUrls: string[];
  relayGathered = false;
  remoteRelay = false;
  /** icecandidateerror events for TURN URLs: code (401 refused credentials, 701 unreachable…) and URL. */
  readonly turnErrors: { code: number; url: string; text: string }[] = [];

  constructor(config: RTCConfiguration) {
    this.turnUrls = urlsOf(config).filter((u) => TURN_URL.test(u));
  }

  /** A local candidate line was gathered. */
  local(candidate: string): void {
    if (RELAY.test(candidate)) this.relayGathered = true;
  }

  /** A remote candidate line arrived. */
  remote(candidate: string | undefined | null): void {
    if (candidate && RELAY.test(candidate)) this.remoteRelay = true;
  }

  /** An icecandidateerror event. */
  error(e: { errorCode?: number; url?: string; errorText?: string }): void {
    if (typeof e.url === 'string' && TURN_URL.test(e.url) && typeof e.errorCode === 'number' && this.turnErrors.length < 20) {
      this.turnErrors.push({ code: e.errorCode, url: e.url, text: (e.errorText ?? '').trim().replace(/\.$/, '') });
    }
  }

  /** The hint for RTC_ICE_FAILED. */
  hint(): string {
    const doctor = 'Run "switchboard doctor <server URL>" to check TURN from a machine on this network.';
    if (this.turnUrls.length === 0) {
      return (
        'No TURN server is configured for this call (the server hands out no turn: URL, and no "ice" with one was passed), ' +
        `so peers without a direct path (mobile networks, strict NATs, firewalls) cannot connect${this.remoteRelay ? ' (the other side offered relay candidates: this side needs TURN too)' : ''}. ` +
        'Configure TURN on the server (ice.turn and ice.turnSecrets; "switchboard turn-config" prints a matching coturn configuration).'
      );
    }
    if (!this.relayGathered) {
      const refused = this.turnErrors.find((e) => e.code === 401 || e.code === 403 || e.code === 438);
      if (refused) {
        return (
          `The TURN server refused the credentials (${refused.code}${refused.text ? ` ${refused.text}` : ''} from ${refused.url}): ` +
          "Switchboard's ice.turnSecrets must match coturn's static-auth-secret and the clocks of both hosts must agree (expired credentials are refused too). " +
          doctor
        );
      }
      const where = this.turnErrors[0]?.url ?? this.turnUrls[0]!;
      const tls = /^turns:/i.test(where) ? ', its TLS certificate is not valid for that host (browsers check it),' : '';
      return `The TURN server could not be reached from here (no relay candidate from ${where}${this.turnErrors.length > 0 ? `, error ${this.turnErrors[0]!.code}` : ''}): a firewall may block its ports${tls} or it is down. ${doctor}`;
    }
    if (!this.remoteRelay) {
      return 'This side relayed through TURN, but the other side offered no relay candidate: it has no TURN server, or cannot reach it from its network.';
    }
    return `Both sides had TURN relay candidates, but no pair worked: the TURN server's relay ports may be blocked, or it denies the peers' relay addresses (denied-peer-ip). ${doctor}`;
  }
}
