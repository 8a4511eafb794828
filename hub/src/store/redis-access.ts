import type { RedisTlsFiles } from './redis-tls.js';

/**
 * How to reach each node of a cluster or Sentinel set, where a URL cannot say it: the ACL user
 * and password (`AUTH`), and TLS (with Node's trusted CAs, or REDIS_TLS_CA_FILE's; a client
 * certificate from REDIS_TLS_CERT_FILE / REDIS_TLS_KEY_FILE). A single server's user and password
 * are in its `redis://` / `rediss://` URL.
 */
export interface RedisAccess {
  username?: string;
  password?: string;
  tls?: boolean;
  /** The CA and client certificate files, used while `tls` is on. */
  tlsFiles?: RedisTlsFiles;
}

/** TLS socket options: the files' CA, certificate and key on top of `tls: true` (nothing when TLS is off). */
export type TlsSocketOptions = { tls?: true; ca?: string; cert?: string; key?: string };

/** node-redis client options for `access`: credentials at the top, TLS (with its files) on the socket. */
export function accessOptions(access: RedisAccess | undefined): { username?: string; password?: string; socket: TlsSocketOptions } {
  return {
    ...(access?.username ? { username: access.username } : {}),
    ...(access?.password ? { password: access.password } : {}),
    socket: access?.tls ? { tls: true, ...access.tlsFiles?.socketOptions() } : {},
  };
}

/** Whether an error message is Redis refusing this client's credentials. */
export function isAuthFailure(message: string): boolean {
  return /\b(NOAUTH|WRONGPASS)\b|invalid (username-)?password|Authentication required/i.test(message);
}

/** A cluster's nodes, or Sentinel's primary and replicas: where their credentials are set. */
export const DATA_NODE_CREDENTIALS = 'REDIS_PASSWORD (and REDIS_USERNAME for a Redis ACL user)';

/** The sentinels themselves: where their credentials are set. */
export const SENTINEL_CREDENTIALS = 'REDIS_SENTINEL_PASSWORD (and REDIS_SENTINEL_USERNAME for an ACL user of the sentinels)';

/**
 * Where the operator fixes credentials Redis refused, for the kind of Redis the hub is set up
 * with: the one phrase the start-up message, /readyz and the connection-error log all use.
 */
export function credentialSettings(kind: 'single' | 'cluster' | 'sentinel' | undefined): string {
  if (kind === 'cluster') return DATA_NODE_CREDENTIALS;
  if (kind === 'sentinel') return `${DATA_NODE_CREDENTIALS} for the primary and replicas, ${SENTINEL_CREDENTIALS} for the sentinels`;
  return 'the password in REDIS_URL (or the Redis ACL user)';
}
