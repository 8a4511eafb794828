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
