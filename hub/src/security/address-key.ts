import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a per-address limit counts a client under. An IPv6 client holds a whole /64 (one
 * subscriber's network, RFC 6177; every SLAAC host picks addresses in it at will): counted per
 * address, it could take a fresh one for every request and never reach a limit (a review: sign-ups
 * sending "this address already has an account" to an owner, without end, from one network). So
 * an IPv6 address counts as its /64, and an IPv4-mapped one (::ffff:203.0.113.7) as its IPv4
 * address; anything else as it is.
 */
export function addressKey(ip: string): string {
  const address = ip.split('%')[0]!; // a zone id (fe80::1%eth0) names the interface, not the host
  if (!isIPv6(address)) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  const [head = '', tail = ''] = address.includes('::') ? address.split('::') : [address, undefined];
  const groups = (part: string) => (part ? part.split(':') : []);
  const before = groups(head);
  // An embedded IPv4 tail (::1.2.3.4) sits in the last 32 bits, past the /64: it does not matter here.
  const after = address.includes('::') ? groups(tail) : [];
  const all = address.includes('::') ? [...before, ...Array<string>(Math.max(0, 8 - before.length - after.length)).fill('0'), ...after] : before;
  return `${all.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16)).join(':')}::/64`;
}
