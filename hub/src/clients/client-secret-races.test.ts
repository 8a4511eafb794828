import { Keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory.js';
import { ClientRegistry } from './client-registry.js';
import { matchClientSecret } from './client-secret.js';

/**
 * Changes to one client made at the same moment (two admins in the console, the CLI beside the
 * console) each read the record and write it back whole. An outside review rotated a client's
 * secret in two console tabs at once, one without an overlap (a leaked secret, to stop now) and
 * one with: the second write carried the leaked secret over as the previous one, so it kept
 * working for the overlap, and the secret the first tab showed was refused. Now each change to a
 * client holds that client's lock from its read to its write, so they apply one after the other.
 */
describe('concurrent changes to one client apply one after the other', () => {
  async function registryWithClient() {
    const registry = new ClientRegistry(new MemoryStore(), new Keys('race:'));
    const created = await registry.register({ clientId: 'svc', redirectUris: ['https://svc.example/cb'], grantTypes: ['client_credentials'] });
    return { registry, leaked: created.clientSecret! };
  }
  const stored = async (registry: ClientRegistry) => (await registry.findUncached('svc'))!;

  test('a rotation without overlap and one with, at once: the secret in use before stops, and one of the new secrets is the current one', async () => {
    const { registry, leaked } = await registryWithClient();
    const [atOnce, withOverlap] = await Promise.all([registry.rotateSecret('svc'), registry.rotateSecret('svc', { overlapSeconds: 600 })]);
    const record = await stored(registry);
    expect(matchClientSecret(record, leaked)).toBe(false);
    const outcome = [matchClientSecret(record, atOnce.clientSecret), matchClientSecret(record, withOverlap.clientSecret)];
    // Either order is right: at-once first (its secret the previous one of the overlap), or overlap first (stopped by the second).
    expect([['previous', 'current'], ['current', false]]).toContainEqual(outcome);
  });

  test('an edit of another setting at the moment of a rotation keeps the new secret and the edit', async () => {
    const { registry, leaked } = await registryWithClient();
    const [rotated] = await Promise.all([registry.rotateSecret('svc'), registry.update('svc', { name: 'Service' })]);
    const record = await stored(registry);
    expect(matchClientSecret(record, rotated.clientSecret)).toBe('current');
    expect(matchClientSecret(record, leaked)).toBe(false);
    expect(record.name).toBe('Service');
  });

  test('a removal at the moment of a rotation is not undone by it', async () => {
    const { registry } = await registryWithClient();
    await Promise.allSettled([registry.rotateSecret('svc'), registry.remove('svc')]);
    const after = await registry.findUncached('svc');
    // One after the other: rotated then removed (gone), or removed then the rotation refused (gone).
    expect(after).toBeUndefined();
  });

  test('a rotation or an overlap\'s end in another hub process just after a removal is refused and does not bring the client back', async () => {
    const store = new MemoryStore();
    const console = new ClientRegistry(store, new Keys('race:'));
    const cli = new ClientRegistry(store, new Keys('race:'));
    await console.register({ clientId: 'svc', redirectUris: ['https://svc.example/cb'], grantTypes: ['client_credentials'] });
    await console.rotateSecret('svc', { overlapSeconds: 600 });
    await console.list(); // its cache is loaded, and fresh for a second
    await cli.remove('svc');
    await expect(console.rotateSecret('svc')).rejects.toMatchObject({ status: 404 });
    await expect(console.endSecretOverlap('svc')).rejects.toMatchObject({ status: 404 });
    expect(await cli.findUncached('svc')).toBeUndefined();
  });
});
