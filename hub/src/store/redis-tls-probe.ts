import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { TlsSocketOptions } from './redis-access.js';
import type { RedisNode, RedisTarget } from './redis-client.js';
import { primaryNamedBy } from './redis-probe.js';
import { tlsFailureHint } from './redis-tls.js';

const HANDSHAKE_WITHIN_MS = 1_500;
/**
 * With TLS 1.3 the client's handshake ends before the server has judged its certificate: the
 * server's refusal (an alert) comes after, so the probe waits this long for one.
 */
const VERDICT_WITHIN_MS = 300;

/**
 * The TLS handshake alone with `node`, with the hub's TLS files: Node's or OpenSSL's error when
 * either side refuses it, undefined when it completes (or nothing answers). node-redis sends its
 * first commands as soon as its side of the handshake is done; a server refusing the client's
 * certificate then closes a connection with unread data, and the reset often loses its alert:
 * the client sees only "Socket closed unexpectedly". Here nothing is sent, so the alert arrives.
 */
function handshakeRefusal(node: RedisNode, options: Omit<TlsSocketOptions, 'tls'>): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const socket = connect({ host: node.host, port: node.port, ...(isIP(node.host) ? {} : { servername: node.host }), ...options });
    const done = (message?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(message);
    };
    timer = setTimeout(() => done(), HANDSHAKE_WITHIN_MS);
    socket.on('error', (error) => done(error.message || error.name));
    socket.on('data', () => {});
    socket.on('close', () => done());
    socket.on('secureConnect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => done(), VERDICT_WITHIN_MS);
    });
  });
}

/** A refused handshake at `node`: Node's words, and what they ask the operator to fix; or undefined. */
async function refusalAt(node: RedisNode, options: TlsSocketOptions | undefined): Promise<{ message: string; hint: string } | undefined> {
  if (!options?.tls) return undefined;
  const { tls: _on, ...files } = options;
  const message = await handshakeRefusal(node, files);
  const hint = message === undefined ? undefined : tlsFailureHint(message);
  return message !== undefined && hint !== undefined ? { message, hint } : undefined;
}

/**
 * Which server of `target` refuses the TLS handshake, Node's words and what to fix: the first listed node (a
 * sentinel for REDIS_SENTINELS, then the primary it names). Undefined when TLS is off, or the
 * handshakes complete.
 */
export async function tlsRefusal(target: RedisTarget): Promise<{ who: string; message: string; hint: string } | undefined> {
  const at = async (node: RedisNode | undefined, options: TlsSocketOptions | undefined, who = (n: RedisNode) => `${n.host}:${n.port}`) => {
    const refused = node ? await refusalAt(node, options) : undefined;
    return refused ? { who: who(node!), ...refused } : undefined;
  };
  if (target.kind === 'single') {
    const url = new URL(target.url);
    if (url.protocol !== 'rediss:') return undefined;
    const node = { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 6379) };
    return at(node, { tls: true, ...target.tlsFiles?.socketOptions() });
  }
  const tlsOf = (access: { tls?: boolean; tlsFiles?: { socketOptions(): Omit<TlsSocketOptions, 'tls'> } } | undefined): TlsSocketOptions | undefined =>
    access?.tls ? { tls: true, ...access.tlsFiles?.socketOptions() } : undefined;
  if (target.kind === 'cluster') return at(target.nodes[0], tlsOf(target.access));
  if (!target.access?.tls && !target.sentinelAccess?.tls) return undefined;
  const sentinel = target.sentinels[0];
  const atSentinel = await at(sentinel, tlsOf(target.sentinelAccess), (n) => `the sentinel ${n.host}:${n.port}`);
  if (atSentinel || !sentinel) return atSentinel;
  const primary = await primaryNamedBy(sentinel, target.name, target.sentinelAccess);
  return at(primary, tlsOf(target.access), (n) => `the primary ${n.host}:${n.port}`);
}
