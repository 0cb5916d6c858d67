/** Hides the password (and a user name that may be one) of a URL such as `redis://:pw@host:6379/0`. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not parseable: hide anything between "//" and the last "@".
    return raw.replace(/\/\/[^/]*@/, '//***@');
  }
  if (url.password) url.password = '***';
  else if (url.username) url.username = '***';
  return url.toString().replace(/\/$/, raw.endsWith('/') ? '/' : '');
}
