import type Provider from 'oidc-provider';

type OidcClient = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

/**
 * oidc-provider's `Client.find` keys its cache of built clients by a SHA-256 of
 * `JSON.stringify(metadata)`, computed on every lookup (once per token, userinfo or
 * introspection request), and keeps at most 100 of them. The hub's metadata objects keep
 * their identity until the client registry reloads a record (provider.ts builds one per
 * cached record), so the identity is the key here: the same object, the same built
 * client; a changed record is a new object and goes through oidc-provider's own `find`.
 */
export function cacheClientsByMetadata(provider: Provider, metadataOf: (clientId: string) => object | undefined | Promise<object | undefined>): void {
  const Client = provider.Client as { find(id: string): Promise<OidcClient | undefined> };
  const find = Client.find.bind(Client);
  const built = new WeakMap<object, OidcClient>();
  Client.find = async (clientId: string) => {
    if (typeof clientId !== 'string' || clientId.length === 0) return undefined;
    const found = metadataOf(clientId);
    const metadata = found instanceof Promise ? await found : found; // no await while the registry's cache is fresh
    if (!metadata) return find(clientId);
    const known = built.get(metadata);
    if (known) return known;
    const client = await find(clientId);
    // Kept only if the registry still hands out the object it was built from (no reload in between).
    if (client && (await metadataOf(clientId)) === metadata) built.set(metadata, client);
    return client;
  };
}
