import { describeRedis } from './index.js';

/** The start-up line's store fields: an operator review found the Sentinel line saying `"name":"hub"`, the monitored name lost under the logger's own field. */
describe('describeRedis', () => {
  const fixed = ['time', 'level', 'name', 'msg']; // the logger's own fields, written last

  test('a Sentinel set-up is described with the monitored name, in a field the logger does not overwrite', () => {
    const fields = describeRedis({ kind: 'sentinel', name: 'hubmaster', sentinels: [{ host: '10.0.0.1', port: 26379 }] }, 1);
    expect(fields).toEqual({ redis: 'sentinel', sentinelName: 'hubmaster', sentinels: ['10.0.0.1:26379'], waitReplicas: 1 });
  });

  test.each([
    { kind: 'sentinel' as const, name: 'hubmaster', sentinels: [{ host: '10.0.0.1', port: 26379 }] },
    { kind: 'cluster' as const, nodes: [{ host: '10.0.0.2', port: 7000 }] },
    { kind: 'single' as const, url: 'redis://:secret@10.0.0.3:6380/2' },
  ])('no field of %j is one the logger fixes, and no credential is in it', (target) => {
    const fields = describeRedis(target as Parameters<typeof describeRedis>[0], 0);
    for (const key of fixed) expect(fields).not.toHaveProperty(key);
    expect(JSON.stringify(fields)).not.toContain('secret');
  });
});
