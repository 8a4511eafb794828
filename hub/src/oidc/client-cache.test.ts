import { describe, expect, it } from '@jest/globals';
import Provider, { type AdapterPayload } from 'oidc-provider';
import { cacheClientsByMetadata } from './client-cache.js';

/** A provider whose clients come from `records` (as the hub's come from its registry), counting reads. */
function providerOver(records: Map<string, AdapterPayload>) {
  let reads = 0;
  const find = async (id: string) => {
    reads += 1;
    return records.get(id);
  };
  const provider = new Provider('http://clients.test', {
    adapter: class {
      constructor(readonly model: string) {}
      find(id: string) {
        return this.model === 'Client' ? find(id) : Promise.resolve(undefined);
      }
    } as never,
  });
  cacheClientsByMetadata(provider, find);
  return { provider, reads: () => reads };
}

const metadata = (redirect: string): AdapterPayload => ({
  client_id: 'site',
  client_secret: 'a-secret-of-some-length',
  redirect_uris: [redirect],
  grant_types: ['authorization_code'],
  response_types: ['code'],
});

describe('cacheClientsByMetadata', () => {
  it('answers the same built client while the registry hands out the same metadata object', async () => {
    const records = new Map([['site', metadata('https://site.test/cb')]]);
    const { provider } = providerOver(records);
    const first = await provider.Client.find('site');
    expect(first?.redirectUris).toEqual(['https://site.test/cb']);
    expect(await provider.Client.find('site')).toBe(first);
  });

  it('builds the client again once the record changed (a new object), so an update takes effect', async () => {
    const records = new Map([['site', metadata('https://site.test/cb')]]);
    const { provider } = providerOver(records);
    const before = await provider.Client.find('site');
    records.set('site', metadata('https://site.test/other'));
    const after = await provider.Client.find('site');
    expect(after).not.toBe(before);
    expect(after?.redirectUris).toEqual(['https://site.test/other']);
  });

  it('does not keep a client built from a record that changed while it was being built', async () => {
    const records = new Map([['site', metadata('https://site.test/cb')]]);
    const { provider } = providerOver(records);
    const stale = records.get('site')!;
    // The registry reloads between the cache's look and oidc-provider's own read.
    const original = records.get.bind(records);
    let calls = 0;
    records.get = (id: string) => {
      calls += 1;
      if (calls === 2) records.set('site', metadata('https://site.test/new'));
      return original(id);
    };
    await provider.Client.find('site');
    records.get = original;
    records.set('site', stale); // the old object again: it must not map to the newer client
    expect((await provider.Client.find('site'))?.redirectUris).toEqual(['https://site.test/cb']);
  });

  it('knows no client the registry does not have', async () => {
    const { provider } = providerOver(new Map());
    expect(await provider.Client.find('nobody')).toBeUndefined();
    expect(await provider.Client.find('')).toBeUndefined();
  });
});
