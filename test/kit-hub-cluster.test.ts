/**
 * The kit ⇄ hub integration test (kit-hub.test.ts) on a 3-master Redis Cluster and on Sentinel,
 * with the kit's sessions (connect-redis) and indexes on the same servers as the hub.
 */
import { withStoreKinds } from '../hub/src/testing/test-hub.js';

await withStoreKinds(['redis-cluster', 'redis-sentinel'], () => import('./kit-hub.test.js'));
