import { ValidationError } from '../errors.js';
import { Keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory.js';
import { ClientRegistry } from './client-registry.js';

describe('client registration rules', () => {
  const base = { clientId: 'app', redirectUris: ['https://app.example/cb'] };

  test('RFC 9700 §2.4: the password grant only for trusted, confidential clients', () => {
    expect(() => ClientRegistry.build({ ...base, grantTypes: ['password'] })).toThrow(ValidationError);
    expect(() => ClientRegistry.build({ ...base, grantTypes: ['password'], trusted: true, tokenEndpointAuthMethod: 'none' })).toThrow(/confidential/);
    expect(ClientRegistry.build({ ...base, grantTypes: ['password'], trusted: true }).grantTypes).toEqual(['password']);
  });

  test('URLs carrying a user name or password are refused (they would reach logs and errors)', () => {
    expect(() => ClientRegistry.build({ ...base, userdeleteUrl: 'http://user:secret@app.internal/sso/userdelete' })).toThrow(/user name or password/);
    expect(() => ClientRegistry.build({ ...base, redirectUris: ['https://user@app.example/cb'] })).toThrow(ValidationError);
  });

  test('exact redirect URIs only: a fragment is refused', () => {
    expect(() => ClientRegistry.build({ ...base, redirectUris: ['https://app.example/cb#x'] })).toThrow(/fragment/);
  });

  test('re-applying an unchanged client writes nothing (other processes keep their cache)', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const registry = new ClientRegistry(store, keys);
    const first = await registry.upsert({ ...base, clientSecret: 'a-client-secret-of-at-least-32-characters' });
    const version = await store.get(keys.clientsVersion());
    const again = await registry.upsert({ ...base, clientSecret: 'a-client-secret-of-at-least-32-characters' });
    expect(again).toEqual(first);
    expect(await store.get(keys.clientsVersion())).toBe(version);
    await registry.upsert({ ...base, name: 'Renamed' });
    expect(Number(await store.get(keys.clientsVersion()))).toBe(Number(version) + 1);
    await store.close();
  });
});
