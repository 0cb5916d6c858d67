export const MAIN_USAGE = `Usage: switchboard <command> [options]

Commands:
  serve        Run the realtime server (HTTPS on :8443 with a self-signed certificate by default)
  token        Print a JWT for a user, signed with the configured (or persisted) secret
  doctor       Check a server from here: WebSocket, auth, STUN, TURN allocation and relay (exit 1 on failure)
  turn-config  Print a coturn configuration (turnserver.conf) matching the server's ice settings

Run "switchboard <command> --help" for the options of a command.
`;

export const SERVE_USAGE = `Usage: switchboard serve [options]

Options:
  --port N            Port to listen on (default 8443; 0 picks a free one)
  --host H            Address to bind (default 0.0.0.0)
  --http              Plain HTTP instead of HTTPS
  --cert F --key F    TLS certificate and key files (instead of the self-signed one)
  --config FILE       JSON config file (also SWITCHBOARD_CONFIG)
  --data-dir D        Where the secret and the self-signed certificate are kept (default ./.switchboard)
  --no-guests         Turn off guest tokens (POST /v1/guest)
  --secret S          HS256 secret for JWTs; repeat to accept several (the first signs)
  --jwks URL          Also accept RS/PS/ES/EdDSA JWTs from your identity provider's JWKS
                      (auth.issuer / auth.audience, when set, must match iss / aud)
  --static DIR        Directory served at / (default: the demo app, when built). Dotfiles,
                      dot-directories, the data dir and the TLS files are never served (404),
                      nor anything a symlink reaches outside DIR
  --log-level L       fatal, error, warn, info, debug, trace or silent (default info)
  -h, --help          Show this help

Every setting can also come from the config file or SWITCHBOARD_* environment variables
(e.g. SWITCHBOARD_LIMITS_MAX_FRAME_BYTES); flags win over env, env over the file.

Exit codes: 0 stopped by SIGINT/SIGTERM; 1 unexpected error; 2 bad flag or setting;
3 Redis unreachable at start; 4 cannot start with a setting (port in use, host not on this
machine, data dir not writable, TLS cert/key unreadable or mismatched). Errors are one line
naming the setting and where it came from.
`;

export const TOKEN_USAGE = `Usage: switchboard token --user ID [options]

Options:
  --user ID           The user_id (JWT "sub")
  --name N            Display name (JWT "name")
  --ttl S             Lifetime in seconds (default 3600)
  --config FILE       JSON config file (also SWITCHBOARD_CONFIG)
  --data-dir D        Data directory holding the persisted secret (default ./.switchboard)
  --secret S          Sign with this secret instead of the configured one
  -h, --help          Show this help
`;
