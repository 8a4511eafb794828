/**
 * An application's URL goes into `<script src="…">` tags that other applications echo into
 * their pages (synlogin/synlogout): only a URL whose host is a host name, an IP literal and a
 * port may be registered, and the tag escapes what it writes.
 */
import { ValidationError } from '../errors.js';
import { Keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory.js';
import { scriptTag } from './notes.js';
import { UcenterAppRegistry } from './ucenter-apps.js';

const registry = () => new UcenterAppRegistry(new MemoryStore(), new Keys('test:ucenter-apps:'));

describe('UCenter application URLs', () => {
  test.each([
    'http://x"onerror="alert(document.domain)"y.test',
    "http://x'onerror='alert(1)'y.test",
    'http://a<b.test',
    'http://a b.test',
    'http://a%22b.test',
    'http://a`b.test',
  ])('a host with a character no host name has is refused: %s', async (url) => {
    // Before, `new URL()` kept a `"` in the host and it broke out of the script tag's src.
    await expect(registry().register({ name: 'Forum', url })).rejects.toBeInstanceOf(ValidationError);
    await expect(registry().register({ name: 'Forum', url: 'https://bbs.example.com', internalUrl: url })).rejects.toBeInstanceOf(ValidationError);
  });

  test.each([
    ['https://bbs.example.com/', 'https://bbs.example.com'],
    ['http://BBS.Example.com:8080/forum', 'http://bbs.example.com:8080/forum'],
    ['http://127.0.0.1:8081', 'http://127.0.0.1:8081'],
    ['http://[::1]:8081/bbs', 'http://[::1]:8081/bbs'],
    ['http://例え.jp/', 'http://xn--r8jz45g.jp'],
    ['http://discuz_old.local', 'http://discuz_old.local'],
  ])('a real host is kept in its normalised form: %s', async (url, stored) => {
    expect((await registry().register({ name: 'Forum', url })).url).toBe(stored);
  });

  test("a name with a control or invisible formatting character is refused (a review: right-to-left overrides in names shown on pages)", async () => {
    await expect(registry().register({ name: 'Forum\u202E', url: 'https://bbs.example.com' })).rejects.toThrow(/formatting characters/);
  });

  test('the script tag cannot be broken out of: a quote, bracket or space is percent-encoded, & stays (Discuz! does not HTML-decode)', () => {
    expect(scriptTag('http://a.test/api/uc.php?time=1&code=a"b<c> d\'e')).toBe('<script type="text/javascript" src="http://a.test/api/uc.php?time=1&code=a%22b%3Cc%3E%20d%27e" reload="1"></script>');
  });
});

describe('removing an application named by its registration', () => {
  test('one removed and registered again under the same app id between the removal\'s read and its delete is not the one removed (a session-diff review: read, then delete)', async () => {
    const store = new MemoryStore();
    const apps = new UcenterAppRegistry(store, new Keys('test:ucenter-apps:'));
    const first = await apps.register({ appId: 9, name: 'First', url: 'https://bbs.example.com' });
    // Another admin removes it and registers a new site under app id 9 right after the removal's first read.
    const get = store.get.bind(store);
    let raced = false;
    store.get = async (key: string) => {
      const value = await get(key);
      if (!raced && key.endsWith('ucenter:app:9')) {
        raced = true;
        const other = new UcenterAppRegistry(store, new Keys('test:ucenter-apps:'));
        await other.remove(9);
        await other.register({ appId: 9, name: 'Second', url: 'https://bbs2.example.com' });
      }
      return value;
    };
    await expect(apps.remove(9, { ifGeneration: first.generation! })).rejects.toThrow(/removed and registered again/);
    expect(raced).toBe(true);
    expect((await apps.find(9))?.name).toBe('Second');
  });
});
