import { networkInterfaces } from 'node:os';

/** Non-internal addresses of this machine (IPv4 first), for certificate SANs and "open this URL" hints. */
export function lanAddresses(options: { ipv6?: boolean } = {}): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.internal) continue;
      if (info.family === 'IPv4') v4.push(info.address);
      else if (options.ipv6 && !info.address.toLowerCase().startsWith('fe80')) v6.push(info.address);
    }
  }
  return [...new Set([...v4, ...v6])];
}
