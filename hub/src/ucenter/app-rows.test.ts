/**
 * The application rows UCenter's applications read, pinned byte for byte: the `updateapps`
 * note's list (uc_client caches it as `data/cache/apps.php`), whose form decides whether an
 * application asks for synlogin/synlogout scripts. The `app/ls` answer is pinned over HTTP in
 * hub/test/ucenter.test.ts.
 */
import { appList } from './app-rows.js';
import type { UcenterApp } from './ucenter-app.js';
import { xmlSerialize } from './xml.js';

const FORUM: UcenterApp = {
  appId: 1, name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004', noteFile: 'api/uc.php', key: 'forum-key',
  synlogin: true, allowRegister: false, createdAt: 1_700_000_000,
};
const WIKI: UcenterApp = {
  appId: 7, name: '维基', type: 'OTHER', url: 'http://wiki.sso.test:5002/extensions/Auth_UC', noteFile: '/sub/notes.php', key: 'wiki-key',
  internalUrl: 'http://wiki:5002/extensions/Auth_UC', synlogin: false, charset: 'gbk', allowRegister: true, createdAt: 1_700_000_001,
};
const HUB = { url: 'https://sso.example.com', name: 'Example SSO' };

/** One row as UCenter's XML writes it, at depth 1. */
function row(id: number, fields: [string, string | number][]): string {
  return `\t<item id="${id}">\r\n${fields.map(([name, value]) => `\t\t<item id="${name}"><![CDATA[${value}]]></item>\r\n`).join('')}\t</item>\r\n`;
}

describe('updateapps: the application list', () => {
  test('the hub (app id 0) first, then each application with every uc_applications column but its key', () => {
    const expected =
      '<?xml version="1.0" encoding="ISO-8859-1"?>\r\n<root>\r\n' +
      row(0, [['appid', 0], ['type', 'OTHER'], ['name', 'Example SSO'], ['url', 'https://sso.example.com'], ['ip', ''], ['viewprourl', ''], ['apifilename', ''], ['charset', ''], ['dbcharset', ''], ['synlogin', 1], ['recvnote', 0], ['extra', ''], ['tagtemplates', ''], ['allowips', '']]) +
      row(1, [['appid', 1], ['type', 'DISCUZX'], ['name', 'Forum'], ['url', 'http://forum.sso.test:5004'], ['ip', ''], ['viewprourl', ''], ['apifilename', 'uc.php'], ['charset', ''], ['dbcharset', ''], ['synlogin', 1], ['recvnote', 1], ['extra', ''], ['tagtemplates', ''], ['allowips', '']]) +
      row(7, [['appid', 7], ['type', 'OTHER'], ['name', '维基'], ['url', 'http://wiki.sso.test:5002/extensions/Auth_UC'], ['ip', ''], ['viewprourl', ''], ['apifilename', 'notes.php'], ['charset', 'gbk'], ['dbcharset', ''], ['synlogin', 0], ['recvnote', 1], ['extra', ''], ['tagtemplates', ''], ['allowips', '']]) +
      '</root>';
    // UTF-8 here (the charset of the application the note goes to decides; the GBK case is ucenter-charset.test.ts).
    expect(xmlSerialize(appList([FORUM, WIKI], HUB))).toEqual(Buffer.from(expected, 'utf8'));
  });
});
