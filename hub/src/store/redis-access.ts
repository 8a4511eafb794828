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
