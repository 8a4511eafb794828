/**
 * UCenter applications in GBK and BIG5 (Discuz! X's GBK and BIG5 editions, bound to a UCenter
 * of their charset): uc_client sends its charset's bytes inside `input` and reads the hub's
 * answers and notes as such bytes. Before, the hub read every input as UTF-8 and answered in
 * UTF-8: a GBK forum's 张三 could not sign in (-1), every Chinese name it checked was "invalid"
 * (-1), and the names it was sent showed as mojibake. The byte values below are the charsets'
 * own (GB2312: 张 D5C5, 三 C8FD, 李 C0EE, 四 CBC4; Big5: 張 B169, 三 A454).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authcodeDecodeBytes, authcodeEncode } from '../src/ucenter/authcode.js';
import type { UcenterApp } from '../src/ucenter/ucenter-app.js';

const AGENT = 'Mozilla/5.0 (GBK forum)';
const ZHANG = { username: '张三', email: 'zhang@example.com', password: 'wonderland-456' };

describe('UCenter applications in GBK and BIG5', () => {
  let hub: RunningHub;
  let gbk: UcenterApp;
  let big5: UcenterApp;
  let utf8: UcenterApp;
  let zhangUid: number;
  let traditionalUid: number;
  let sink: Server;
  const received: { url: string; body: Buffer }[] = [];

  beforeAll(async () => {
    sink = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ url: req.url ?? '', body: Buffer.concat(chunks) });
        res.end('1');
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
    hub = await startTestHub('memory');
    const { apps } = hub.services.ucenter;
    gbk = await apps.register({ name: '中文论坛', type: 'DISCUZX', url: 'http://gbk.forum.test', internalUrl: sinkUrl, charset: 'GBK', allowRegister: true });
    big5 = await apps.register({ name: 'Big5 forum', type: 'DISCUZX', url: 'http://big5.forum.test', internalUrl: sinkUrl, charset: 'big5' });
    utf8 = await apps.register({ name: 'UTF-8 forum', type: 'DISCUZX', url: 'http://utf8.forum.test', internalUrl: sinkUrl });
    zhangUid = (await hub.services.users.create(ZHANG)).uid!;
    traditionalUid = (await hub.services.users.create({ username: '張三', email: 'chang@example.com', password: ZHANG.password })).uid!;
  });

  afterAll(async () => {
    await hub?.close();
    await new Promise((resolve) => sink?.close(resolve));
  });

  /**
   * uc_api_post as the application sends it: `args` already PHP-urlencoded from its charset's
   * bytes (the raw answer's bytes back).
   */
  async function call(app: UcenterApp, module: string, action: string, args: string): Promise<Buffer> {
    const agent = createHash('md5').update(AGENT).digest('hex');
    const input = authcodeEncode(`${args}&m=${module}&a=${action}&appid=${app.appId}&agent=${agent}&time=${Math.floor(Date.now() / 1000)}`, app.key);
    const response = await fetch(`${hub.url}/ucenter/index.php`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': AGENT },
      body: `m=${module}&a=${action}&inajax=2&release=20170101&input=${encodeURIComponent(input)}&appid=${app.appId}`,
    });
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  }

  it('user/login and user/get_user: a GBK forum signs 张三 in by its GBK bytes and reads the name back in GBK', async () => {
    const answer = await call(gbk, 'user', 'login', 'username=%D5%C5%C8%FD&password=wonderland-456&isuid=0&checkques=1&questionid=0&answer=&ip=&nolog=0');
    expect(answer.includes(Buffer.from(`<item id="0"><![CDATA[${zhangUid}]]></item>`))).toBe(true);
    expect(answer.includes(Buffer.from('<item id="1"><![CDATA[\xd5\xc5\xc8\xfd]]></item>', 'latin1'))).toBe(true);
    const byUid = await call(gbk, 'user', 'get_user', `username=${zhangUid}&isuid=1`);
    expect(byUid.includes(Buffer.from('<![CDATA[\xd5\xc5\xc8\xfd]]>', 'latin1'))).toBe(true);
    expect(byUid.includes(Buffer.from('张三'))).toBe(false);
  });

  it('BIG5 as well; a UTF-8 forum keeps UTF-8', async () => {
    const big5Answer = await call(big5, 'user', 'login', 'username=%B1i%A4T&password=wonderland-456&isuid=0');
    expect(big5Answer.includes(Buffer.from(`<![CDATA[${traditionalUid}]]>`))).toBe(true);
    expect(big5Answer.includes(Buffer.from('<![CDATA[\xb1i\xa4T]]>', 'latin1'))).toBe(true);
    const utf8Answer = await call(utf8, 'user', 'login', `username=${encodeURIComponent('张三')}&password=wonderland-456&isuid=0`);
    expect(utf8Answer.includes(Buffer.from(`<![CDATA[${zhangUid}]]>`))).toBe(true);
    expect(utf8Answer.includes(Buffer.from('<![CDATA[张三]]>'))).toBe(true);
  });

  it("user/check_username and user/register take a GBK forum's Chinese names", async () => {
    expect((await call(gbk, 'user', 'check_username', 'username=%C0%EE%CB%C4')).toString('latin1')).toBe('1');
    expect((await call(gbk, 'user', 'check_username', 'username=%D5%C5%C8%FD')).toString('latin1')).toBe('-3');
    const uid = Number((await call(gbk, 'user', 'register', 'username=%C0%EE%CB%C4&password=Sunflower-seed-77&email=li%40example.com&questionid=&answer=&regip=')).toString('latin1'));
    expect(uid).toBeGreaterThan(traditionalUid);
    expect((await hub.services.users.findByUid(uid))?.username).toBe('李四');
  });

  it("a GBK name whose second byte is 0x5C, as Discuz! sends it through addslashes() (淺 is 9C 5C, sent 9C 5C 5C), registers and signs in as that name", async () => {
    // Before, the hub read 王淺\ (the backslash addslashes() added): "invalid name" (-1) at
    // registration, "no such user" (-1) at sign-in. UCenter strips such backslashes from its input.
    const slashed = '%CD%F5%9C%5C%5C';
    const uid = Number((await call(gbk, 'user', 'register', `username=${slashed}&password=Sunflower-seed-77&email=wang%40example.com&questionid=&answer=&regip=`)).toString('latin1'));
    expect(uid).toBeGreaterThan(0);
    expect((await hub.services.users.findByUid(uid))?.username).toBe('王淺');
    const answer = await call(gbk, 'user', 'login', `username=${slashed}&password=Sunflower-seed-77&isuid=0&checkques=1&questionid=0&answer=&ip=&nolog=0`);
    expect(answer.includes(Buffer.from(`<item id="0"><![CDATA[${uid}]]></item>`))).toBe(true);
    expect(answer.includes(Buffer.from('<item id="1"><![CDATA[\xcd\xf5\x9c\x5c]]></item>', 'latin1'))).toBe(true);
  });

  it("the sync page's synlogin notes name the user in the application's charset", async () => {
    const user = (await hub.services.users.findByLogin('张三'))!;
    const beacons = await hub.services.ucenter.service.syncBeacons('login', user.id);
    const note = (app: UcenterApp, url: string) => authcodeDecodeBytes(new URL(url).searchParams.get('code')!, app.key)!.toString('latin1');
    expect(note(gbk, beacons.find((b) => b.clientId === `ucenter:${gbk.appId}`)!.url)).toBe(`action=synlogin&uid=${zhangUid}&username=%D5%C5%C8%FD&time=${/time=(\d+)/.exec(note(gbk, beacons[0]!.url))![1]}`);
    // 张 (simplified) has no Big5 bytes: a question mark, as iconv without //IGNORE gives up on it.
    expect(note(big5, beacons.find((b) => b.clientId === `ucenter:${big5.appId}`)!.url)).toContain('&username=%3F%A4T&');
    const traditional = await hub.services.ucenter.service.syncBeacons('login', (await hub.services.users.findByLogin('張三'))!.id);
    expect(note(big5, traditional.find((b) => b.clientId === `ucenter:${big5.appId}`)!.url)).toContain('&username=%B1i%A4T&');
    expect(note(utf8, beacons.find((b) => b.clientId === `ucenter:${utf8.appId}`)!.url)).toContain(`&username=${encodeURIComponent('张三')}&`);
  });

  it("updateapps: the list arrives in each application's charset, naming it", async () => {
    received.length = 0;
    await hub.services.ucenterNotes.enqueueUpdateapps();
    await hub.deliveryWorker.runOnce();
    const toGbk = received.find((r) => authcodeDecodeBytes(new URL(r.url, 'http://x').searchParams.get('code')!, gbk.key));
    expect(toGbk).toBeDefined();
    expect(toGbk!.body.includes(Buffer.from('<![CDATA[\xd6\xd0\xce\xc4\xc2\xdb\xcc\xb3]]>', 'latin1'))).toBe(true); // 中文论坛
    expect(toGbk!.body.includes(Buffer.from('<item id="charset"><![CDATA[gbk]]></item>'))).toBe(true);
    const toUtf8 = received.find((r) => authcodeDecodeBytes(new URL(r.url, 'http://x').searchParams.get('code')!, utf8.key));
    expect(toUtf8!.body.includes(Buffer.from('<![CDATA[中文论坛]]>'))).toBe(true);
  });

  it("a GBK character whose second byte is ']' does not end an answer's CDATA early (the address after it is not read as markup)", async () => {
    // 癩 is B0 5D in GBK: "癩]>" has no "]]>" as text and one as bytes.
    const email = '癩]><x>y</x><![CDATA[@evil.example';
    // Such an address is refused at creation now (no brackets in an address); a record stored
    // before that (or by an older release) may still hold one, so it is written into the store.
    const created = await hub.services.users.create({ username: 'cdata-test', email: 'cdata-test@example.test', password: ZHANG.password });
    const key = hub.services.keys.user(created.id);
    await hub.store.set(key, JSON.stringify({ ...JSON.parse((await hub.store.get(key))!), email }));
    const uid = created.uid!;
    const answer = (await call(gbk, 'user', 'get_user', `username=${uid}&isuid=1`)).toString('latin1');
    // What uc_client's parser reads: outside the CDATA sections, nothing but the items' own tags;
    // inside item 2's sections (joined), the address's GBK bytes.
    const cdata = /<!\[CDATA\[([\s\S]*?)\]\]>/g;
    expect(answer.replace(cdata, '').replace(/<\?xml[^>]*\?>|<\/?root>|<item id="\d+">|<\/item>|\s/g, '')).toBe('');
    const item2 = answer.split('\r\n').find((line) => line.startsWith('\t<item id="2">'))!;
    expect([...item2.matchAll(cdata)].map((match) => match[1]).join('')).toBe(`\xb0]${email.slice(1)}`);
  });

  it('an application is registered with UTF-8, GBK or BIG5 only', async () => {
    await expect(hub.services.ucenter.apps.register({ name: 'Latin-1', url: 'http://latin1.forum.test', charset: 'latin1' })).rejects.toThrow(/UC_CHARSET/);
    expect((await hub.services.ucenter.apps.register({ name: 'UTF8', url: 'http://u.forum.test', charset: 'utf8' })).charset).toBeUndefined();
  });
});
