import { Keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory.js';
import { MAIL_WINDOW_SECONDS, SignupMailBudget } from './signup-mail-budget.js';

describe('SignupMailBudget: sign-up mails per address, per asking network and overall', () => {
  let store: MemoryStore;
  const keys = new Keys('budget:');
  beforeEach(() => {
    store = new MemoryStore();
  });
  afterEach(() => store.close());

  const budget = () => new SignupMailBudget({ store, keys, perNetwork: 3, perAddress: 10 });

  test('one network gets its share; asking on does not count toward the address, so the next network still gets its own', async () => {
    const mails = budget();
    const asked = [];
    for (let index = 0; index < 50; index += 1) asked.push(await mails.take('owner@example.com', '198.51.100.7'));
    expect(asked.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(new Set(asked.slice(3))).toEqual(new Set(['network']));
    // Fifty asks from one network counted three toward the address's cap of ten.
    expect(await store.get(keys.signupAddressMails('owner@example.com'))).toBe('3');
    expect(await mails.take('owner@example.com', '203.0.113.9')).toBeUndefined();
  });

  test('an IPv6 /64 is one network: fresh addresses in it share its share; IPv4-mapped is its IPv4 address', async () => {
    const mails = budget();
    for (const ip of ['2001:db8:5:6::1', '2001:db8:5:6::2', '2001:db8:5:6:ffff::3']) expect(await mails.take('owner@example.com', ip)).toBeUndefined();
    expect(await mails.take('owner@example.com', '2001:db8:5:6:abcd::4')).toBe('network');
    expect(await mails.take('owner@example.com', '2001:db8:5:7::1')).toBeUndefined();
    for (const ip of ['192.0.2.1', '::ffff:192.0.2.1', '192.0.2.1']) expect(await mails.take('owner@example.com', ip)).toBeUndefined();
    expect(await mails.take('owner@example.com', '::ffff:192.0.2.1')).toBe('network');
  });

  test('only several networks together reach the overall cap; past it nobody\'s mail goes, and the address is one however it is typed', async () => {
    const mails = budget();
    const sent: string[] = [];
    // Four networks, three each: ten mails, then the cap.
    for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4']) {
      for (let index = 0; index < 3; index += 1) if ((await mails.take(index % 2 ? 'Owner@Example.com ' : 'owner@example.com', ip)) === undefined) sent.push(ip);
    }
    expect(sent).toHaveLength(10);
    expect(await mails.take('owner@example.com', '203.0.113.9')).toBe('address');
    // Another address is counted apart.
    expect(await mails.take('other@example.com', '198.51.100.1')).toBeUndefined();
  });

  test('every count it writes expires with its window', async () => {
    const mails = budget();
    await mails.take('owner@example.com', '198.51.100.7');
    const keysWritten = [keys.signupAddressMails('owner@example.com'), keys.signupNetworkMails('owner@example.com', '198.51.100.7')];
    for (const key of keysWritten) {
      const ttl = await store.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(MAIL_WINDOW_SECONDS);
    }
  });
});
