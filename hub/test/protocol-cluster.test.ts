/**
 * The protocol suite (protocol.test.ts) on a 3-master Redis Cluster and on Sentinel (primary,
 * replica, three sentinels), each started for this file on free ports.
 */
import { withStoreKinds } from '../src/testing/test-hub.js';

await withStoreKinds(['redis-cluster', 'redis-sentinel'], () => import('./protocol.test.js'));
