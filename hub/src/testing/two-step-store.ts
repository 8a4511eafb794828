import { randomUUID } from 'node:crypto';
import { LoginThrottle } from '../security/login-throttle.js';
import { Keys } from '../store/keys.js';
import { RedisStore } from '../store/redis.js';
import { deleteByPrefix } from '../store/redis-client.js';
import type { Store } from '../store/store.js';
import { SecretBox } from '../two-step/secret-box.js';
import { TwoStepRepository } from '../two-step/two-step-repository.js';
import { TwoStepService } from '../two-step/two-step-service.js';
import { openTestStore, type StoreKind } from './test-hub.js';

/** Two-step enrolments on a test store of `kind`, under a prefix of their own: the repository and the service over it. */
export interface TwoStepOnStore {
  store: Store;
  keys: Keys;
  repository: TwoStepRepository;
  service: TwoStepService;
}

/** Opens a test store and the two-step service on it, its second-step failures throttled past `maxFailuresPerAccount`, secrets sealed with `kek`. */
export async function openTwoStep(kind: StoreKind, maxFailuresPerAccount: number, kek: string): Promise<TwoStepOnStore> {
  const store = await openTestStore(kind);
  const keys = new Keys(`test:${randomUUID()}:`);
  const repository = new TwoStepRepository(store, keys);
  const throttle = new LoginThrottle({
    maxFailuresPerAccount, maxAttemptsPerIp: 1000, windowSeconds: 60, backoffBaseSeconds: 30, backoffMaxSeconds: 60,
    keyPrefix: keys.rateLimitPrefix(), ...(store instanceof RedisStore ? { redis: store.client } : {}),
  });
  return { store, keys, repository, service: new TwoStepService(repository, new SecretBox([kek]), throttle, 'hub.test') };
}

/** Removes what the tests wrote (Redis) and closes the store. */
export async function closeTwoStep({ store, keys }: Pick<TwoStepOnStore, 'store' | 'keys'>): Promise<void> {
  if (store instanceof RedisStore) await deleteByPrefix(store.client, keys.prefix);
  await store.close();
}
