import type { RedisTarget } from './redis-client.js';

/**
 * How to reach each node of a cluster or Sentinel set, where a URL cannot say it: the ACL user
 * and password (`AUTH`), and TLS (with Node's trusted CAs, `NODE_EXTRA_CA_CERTS` for a private
 * one). A single server's are in its `redis://` / `rediss://` URL.
 */
export interface RedisAccess {
  username?: string;
  password?: string;
  tls?: boolean;
}

/** node-redis client options for `access`: credentials at the top, TLS on the socket. */
export function accessOptions(access: RedisAccess | undefined): { username?: string; password?: string; socket: { tls?: true } } {
  return {
    ...(access?.username ? { username: access.username } : {}),
    ...(access?.password ? { password: access.password } : {}),
    socket: access?.tls ? { tls: true } : {},
  };
}

/** Whether an error message is Redis refusing this client's credentials. */
export function isAuthFailure(message: string): boolean {
  return /\b(NOAUTH|WRONGPASS)\b|invalid (username-)?password|Authentication required/i.test(message);
}

/**
 * The settings that hold the credentials for `target`, to name in a refusal: a single server's
 * are in its URL, a cluster's and Sentinel's in their own variables (the sentinels' apart).
 */
export function credentialSettings(target: RedisTarget | undefined): string {
  if (target?.kind === 'cluster') return 'REDIS_PASSWORD (and REDIS_USERNAME for a Redis ACL user)';
  if (target?.kind === 'sentinel') return 'REDIS_PASSWORD (and REDIS_USERNAME for a Redis ACL user) for the primary and replicas, REDIS_SENTINEL_PASSWORD for the sentinels';
  return 'the password in REDIS_URL (or the Redis ACL user)';
}
