// GUARD_TRUSTED_PROXIES: the addresses whose identity header the guard believes (the auth proxy's), as a CIDR list.
// node:net's BlockList matches IPv4 and IPv6 and an IPv4-mapped IPv6 socket address (::ffff:10.0.0.5) against an
// IPv4 range, which is how a dual-stack listener presents IPv4 clients.
import { BlockList, isIP } from 'node:net';

export type TrustedProxies = { ok: true; list: BlockList; text: string } | { ok: false; problem: string };

/** "10.0.0.0/8, 192.168.1.7, fd00::/8": each entry an address or address/prefix. */
export function parseTrustedProxies(text: string): TrustedProxies {
  const list = new BlockList();
  const entries = text.split(',').map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) return { ok: false, problem: 'it names no address' };
  for (const entry of entries) {
    const [address = '', prefixText, extra] = entry.split('/');
    const family = isIP(address);
    const maxPrefix = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? maxPrefix : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (family === 0 || extra !== undefined || !(prefix >= 0 && prefix <= maxPrefix)) {
      return { ok: false, problem: `"${entry.slice(0, 60)}" is not an address or CIDR range` };
    }
    // A prefix of 0 is every address: any client could then name itself to the guard as anyone, approvers included.
    if (prefix === 0) return { ok: false, problem: `"${entry.slice(0, 60)}" trusts every address; name the auth proxy's own addresses` };
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return { ok: true, list, text: entries.join(', ') };
}

/** Whether a socket's remote address is one of the trusted proxies. */
export function isTrusted(list: BlockList, remoteAddress: string | undefined): boolean {
  if (!remoteAddress) return false;
  const family = isIP(remoteAddress);
  if (family === 0) return false;
  return list.check(remoteAddress, family === 4 ? 'ipv4' : 'ipv6');
}
