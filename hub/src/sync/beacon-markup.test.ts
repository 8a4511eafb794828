import nunjucks from 'nunjucks';
import { beaconTag, beaconTemplate, beaconUrl, escapeHtml } from './beacon-markup.js';

/** The sync page's beacon loop as it was in templates/hub/sync.njk, rendered by nunjucks with autoescape. */
const LOOP = `{% for beacon in beacons %}{% if beacon.ucenter %}<script class="beacon" type="text/javascript" src="{{ beacon.url }}" data-client="{{ beacon.clientId }}" reload="1" async></script>{% elif beacon.transport == "script" %}<script class="beacon" src="{{ beacon.url }}" data-client="{{ beacon.clientId }}" async></script>{% else %}<img class="beacon" src="{{ beacon.url }}" alt="" width="1" height="1" data-client="{{ beacon.clientId }}">{% endif %}|{% endfor %}`;
const env = new nunjucks.Environment(null, { autoescape: true });
const byNunjucks = (beacons: object[]) => env.renderString(LOOP, { beacons }).split('|').slice(0, -1);

/** How the sync page built a beacon URL before templates: a URL object per beacon. */
function urlTheOldWay(base: string, time: string, code: string): string {
  const url = new URL(base);
  url.searchParams.set('time', time);
  url.searchParams.set('code', code);
  return url.toString();
}

const BASES = [
  'https://bbs.example/sso/synclogin',
  'http://127.1.0.1:9/s0/sso/synclogin',
  'https://wiki.example/sso/synclogin?site=a&lang=zh%20CN',
  'https://shop.example:8443/a/b/synclogin?time=1&x=y+z',
  'https://x.example/sync?code=old&time=old', // code before time: no template, the slow way
  "https://q.example/p'a\"th<>?q=%3Cb%3E&r='x'",
];
const CLIENTS = ['bbs', 'a.b-c_d', '<odd>&"\'id'];
const TIME = '1796230084';
const CODE = 'eyJhbGciOiJIUzI1NiIsInR5cCI6InN5bmMrand0In0.eyJhY3QiOiJsb2dpbiJ9.Q2xpZW50U2lnbmF0dXJlLV8';

describe('sync page beacons (issue 14: built from per-subsite templates)', () => {
  test.each(BASES)('URL and tag are byte for byte what the URL object and the nunjucks loop made: %s', (base) => {
    for (const clientId of CLIENTS) {
      for (const transport of ['img', 'script'] as const) {
        const expectedUrl = urlTheOldWay(base, TIME, CODE);
        const [expectedTag] = byNunjucks([{ clientId, url: expectedUrl, transport }]);
        expect(beaconUrl(base, TIME, CODE)).toBe(expectedUrl);
        expect(beaconTag({ clientId, url: expectedUrl, transport })).toBe(expectedTag);
        const template = beaconTemplate(base, clientId, transport);
        if (base.includes('code=old')) {
          expect(template).toBeUndefined();
          continue;
        }
        expect(template!.url.join('|')).not.toContain('undefined');
        expect(template!.url[0] + TIME + template!.url[1] + CODE + template!.url[2]).toBe(expectedUrl);
        expect(template!.tag[0] + TIME + template!.tag[1] + CODE + template!.tag[2]).toBe(expectedTag);
      }
    }
  });

  test('UCenter notes keep the seed’s script tag with reload="1"', () => {
    const beacon = { clientId: 'uc:1', url: 'https://bbs.example/api/uc.php?time=1&code=a+b/c=', transport: 'script' as const, ucenter: true };
    expect(beaconTag(beacon)).toBe(byNunjucks([beacon])[0]);
  });

  test('escaping is nunjucks’ own', () => {
    const value = `a&b"c'd<e>f\\g`; // nunjucks escapes a backslash too
    expect(escapeHtml(value)).toBe(env.renderString('{{ v }}', { v: value }));
  });
});
