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

/** A cluster's nodes, or Sentinel's primary and replicas: where their credentials are set. */
export const DATA_NODE_CREDENTIALS = 'REDIS_PASSWORD (and REDIS_USERNAME for a Redis ACL user)';

/**
 * Where the operator fixes credentials Redis refused, for the kind of Redis the hub is set up
 * with: the one phrase the start-up message, /readyz and the connection-error log all use.
 */
export function credentialSettings(kind: 'single' | 'cluster' | 'sentinel' | undefined): string {
  if (kind === 'cluster') return DATA_NODE_CREDENTIALS;
  if (kind === 'sentinel') return `${DATA_NODE_CREDENTIALS} for the primary and replicas, REDIS_SENTINEL_PASSWORD for the sentinels`;
  return 'the password in REDIS_URL (or the Redis ACL user)';
}
