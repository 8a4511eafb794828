import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliHarness } from '../src/testing/cli-harness.js';
import { createHub } from '../src/hub.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { connectRedis, RedisStore } from '../src/store/redis.js';
import { legacyHashFrom } from '../src/users/legacy-hash.js';
import { importUcMembers, parseCsvMembers, parseMysqldump } from '../src/ucenter/import.js';
import { startTestHub, STORE_KINDS, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const ucHash = (password: string, salt: string) => md5(md5(password) + salt);

const DUMP = `-- MySQL dump 10.13
DROP TABLE IF EXISTS \`pre_ucenter_members\`;
CREATE TABLE \`pre_ucenter_members\` (
  \`uid\` mediumint(8) unsigned NOT NULL AUTO_INCREMENT,
  \`username\` char(15) NOT NULL DEFAULT '',
  \`password\` varchar(255) NOT NULL DEFAULT '',
  \`email\` char(32) NOT NULL DEFAULT '',
  \`myid\` char(30) NOT NULL DEFAULT '',
  \`myidkey\` char(16) NOT NULL DEFAULT '',
  \`regip\` char(15) NOT NULL DEFAULT '',
  \`regdate\` int(10) unsigned NOT NULL DEFAULT '0',
  \`lastloginip\` int(10) NOT NULL DEFAULT '0',
  \`lastlogintime\` int(10) unsigned NOT NULL DEFAULT '0',
  \`salt\` varchar(20) NOT NULL DEFAULT '',
  \`secques\` char(8) NOT NULL DEFAULT '',
  PRIMARY KEY (\`uid\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
INSERT INTO \`pre_ucenter_members\` VALUES (12,'erin','${ucHash('erin-pw', "s'1\\")}','erin@example.com','','','127.0.0.1',1400000000,0,0,'s\\'1\\\\',''),(40,'frank','${ucHash('frank-pw', 'x9')}','frank@example.com','','','',1400000001,0,0,'x9',NULL);
`;

describe('ucenter CLI against Redis', () => {
  const prefix = `test:ucli:${randomUUID()}:`;
  const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: prefix, HUB_ISSUER: 'http://hub.test' };

  const { run, cleanUp } = cliHarness(env);
  afterAll(cleanUp);

  test('an application on another site than the hub is told at registration that the hub\'s sign-ins and sign-outs will not reach it', async () => {
    // A forum helper's review: Discuz! X3.5 on 127.0.0.1 beside a hub on hub.sso.localhost kept no cookie from
    // the sync page's notes in Chromium; its member stayed signed in there after signing out at the hub.
    const far = await run('ucenter', 'apps', 'add', '--name', 'Far', '--url', 'http://127.0.0.1:7513', '--accept-rc4', '--updatepw');
    expect(far.code).toBe(0);
    expect(far.out).toMatch(/note: 127\.0\.0\.1:7513 is another site than the hub's hub\.test: .*signing in or out at the hub does not reach this application/);
    const near = await run('ucenter', 'apps', 'add', '--name', 'Near', '--url', 'http://bbs.hub.test', '--accept-rc4', '--updatepw');
    expect(near.code).toBe(0);
    expect(near.out).not.toMatch(/another site/);
  });

  test('registering an application needs --accept-rc4, warns, and shows UC_KEY once', async () => {
    const refused = await run('ucenter', 'apps', 'add', '--name', 'Forum', '--url', 'http://forum.test');
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/RC4/);
    expect(refused.out).toMatch(/runs in the hub's origin/);
    const added = await run('ucenter', 'apps', 'add', '--name', 'Forum', '--url', 'http://forum.test', '--type', 'discuzx', '--app-id', '3', '--accept-rc4');
    expect(added.code).toBe(0);
    expect(added.out).toMatch(/UC_APPID = 3/);
    // Said at registration: without password notes, a disabled user's forum session lives on.
    expect(added.out).toMatch(/without --updatepw, disabling a user or a new password does not end their sessions at this application/);
    const key = /UC_KEY \(shown once\) = (\S+)/.exec(added.out)![1]!;
    expect(key).toHaveLength(64);
    const listed = await run('ucenter', 'apps', 'list');
    expect(listed.out).toMatch(/3\s+Forum\s+DISCUZX\s+http:\/\/forum.test\s+note=api\/uc.php\s+synlogin=on/);
    expect(listed.out).not.toContain(key);
    expect((await run('ucenter', 'apps', 'add', '--name', 'Again', '--url', 'http://x.test', '--app-id', '3', '--accept-rc4')).out).toMatch(/taken/);
    // A GBK edition of Discuz! X: its UC_CHARSET.
    expect((await run('ucenter', 'apps', 'add', '--name', 'GBK', '--url', 'http://gbk.test', '--app-id', '4', '--charset', 'gbk', '--accept-rc4')).code).toBe(0);
    expect((await run('ucenter', 'apps', 'list')).out).toMatch(/4\s+GBK\s+.*charset=gbk/);
  });

  test('apps update changes a moved forum\'s settings in place: UC_APPID, UC_KEY and the registration stay (an operator review: only remove-and-register, a new key, the queued notes dropped)', async () => {
    const added = await run('ucenter', 'apps', 'add', '--name', 'Moving', '--url', 'http://old.hub.test/bbs', '--app-id', '21', '--internal-url', 'http://10.0.0.5/bbs', '--accept-rc4');
    expect(added.code).toBe(0);
    const key = /UC_KEY \(shown once\) = (\S+)/.exec(added.out)![1]!;
    const store = new RedisStore(await connectRedis(TEST_REDIS_URL));
    try {
      const hub = await createHub(loadConfig({ ...env, LOG_LEVEL: 'silent' }), store, createLogger('silent'));
      const apps = hub.services.ucenterApps;
      const before = (await apps.find(21))!;

      const moved = await run('ucenter', 'apps', 'update', '21', '--url', 'https://bbs.hub.test/', '--internal-url', '', '--name', 'Moved', '--charset', 'gbk', '--updatepw', '--no-synlogin');
      expect(moved.code).toBe(0);
      expect(moved.out).toMatch(/updated UCenter application 21 \(Moved\): .*url.*; notes go to https:\/\/bbs\.hub\.test\/api\/uc\.php; UC_APPID and UC_KEY are unchanged/);
      expect(moved.out).not.toContain(key);
      const after = (await apps.find(21))!;
      expect(after).toMatchObject({ appId: 21, name: 'Moved', url: 'https://bbs.hub.test', charset: 'gbk', updatepw: true, synlogin: false, key, generation: before.generation, createdAt: before.createdAt });
      expect(after.internalUrl).toBeUndefined();
      expect((await hub.services.audit.search({ event: 'admin.client.update' })).some((entry) => entry.client === 'ucenter:21')).toBe(true);

      // Turned back on; asking for the settings it has changes nothing.
      expect((await run('ucenter', 'apps', 'update', '21', '--synlogin')).code).toBe(0);
      expect((await apps.find(21))!.synlogin).toBe(true);
      expect((await run('ucenter', 'apps', 'update', '21', '--synlogin')).out).toMatch(/already has these settings: nothing changed/);
      // Refused, with nothing written: a bad address, both flags, nothing to change, an unknown app.
      expect((await run('ucenter', 'apps', 'update', '21', '--url', 'ftp://bbs.hub.test')).code).not.toBe(0);
      expect((await run('ucenter', 'apps', 'update', '21', '--updatepw', '--no-updatepw')).out).toMatch(/--updatepw and --no-updatepw both given/);
      expect((await run('ucenter', 'apps', 'update', '21')).out).toMatch(/nothing to change/);
      expect((await run('ucenter', 'apps', 'update', '999', '--name', 'Ghost')).code).not.toBe(0);
      expect(await apps.find(999)).toBeUndefined();
      expect((await apps.find(21))!).toMatchObject({ url: 'https://bbs.hub.test', key });
    } finally {
      await store.close();
    }
  });

  test('imports uc_members from CSV and from a mysqldump, keeping uids; counts legacy hashes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ucimport-'));
    const csv = join(dir, 'members.csv');
    await writeFile(csv, `uid,username,email,password,salt,regdate\n7,dana,dana@example.com,${ucHash('dana-pw', 'abc123')},abc123,1300000000\n8,bad,bad@example.com,not-a-hash,zz,0\n`);
    const sql = join(dir, 'dump.sql');
    await writeFile(sql, DUMP);
    const first = await run('ucenter', 'import', csv);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/skipped uid 8 \(bad\): the password is not a UCenter md5 hash/);
    expect(first.out).toMatch(/imported 1 users, skipped 1/);
    expect((await run('ucenter', 'import', sql)).out).toMatch(/imported 2 users, skipped 0; 3 legacy hashes/);
    expect((await run('ucenter', 'legacy-count')).out).toMatch(/^3 users/);
    // A second run skips what is there.
    expect((await run('ucenter', 'import', sql)).out).toMatch(/imported 0 users, skipped 2/);

    const store = new RedisStore(await connectRedis(TEST_REDIS_URL));
    try {
      const hub = await createHub(loadConfig({ ...env, LOG_LEVEL: 'silent' }), store, createLogger('silent'));
      const { users, hasher } = hub.services;
      const erin = (await users.findByUid(12))!;
      expect(erin.username).toBe('erin');
      expect(erin.createdAt).toBe(1400000000);
      expect(await hasher.verify(erin.passwordHash, 'erin-pw')).toBe(true);
      expect(await hasher.verify(erin.passwordHash, 'wrong')).toBe(false);
      expect(await hasher.verify((await users.findByUid(40))!.passwordHash, 'frank-pw')).toBe(true);
      expect(await hasher.verify((await users.findByUid(7))!.passwordHash, 'dana-pw')).toBe(true);
      // New users get uids above the imported ones.
      expect((await users.create({ username: 'newbie', email: 'n@example.com', password: 'long-enough-1' })).uid).toBe(41);
    } finally {
      await store.close();
    }
  });

  test('imports members with Chinese usernames (before: every one skipped, "A username has 2 to 64 letters…"); a name with a space is still skipped, saying why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ucimport-'));
    const csv = join(dir, 'members.csv');
    await writeFile(csv, `uid,username,email,password,salt,regdate\n100,张三,zs@example.com,${ucHash('zs-pw', 'q1w2e3')},q1w2e3,1300000000\n101,John Smith,js@example.com,${ucHash('js-pw', 'r4t5')},r4t5,0\n102,evil\u001b[2Jname,ev@example.com,${ucHash('ev-pw', 'z9')},z9,0\n103,mail,ev\u001b[2J@example.com,${ucHash('ev-pw', 'z9')},z9,0\n`);
    const imported = await run('ucenter', 'import', csv);
    // A terminal escape in a refused name is printed escaped, never raw.
    expect(imported.out).toContain('skipped uid 102 (evil\\u001b[2Jname)');
    expect(imported.out).not.toContain('\u001b');
    expect(imported.out).toMatch(/skipped uid 101 \(John Smith\): A username has 2 to 64 letters \(of any language\)/);
    expect(imported.out).toMatch(/skipped uid 103 \(mail\)/); // an address with a control character is refused
    expect(imported.out).toMatch(/imported 1 users, skipped 3/);
    const store = new RedisStore(await connectRedis(TEST_REDIS_URL));
    try {
      const hub = await createHub(loadConfig({ ...env, LOG_LEVEL: 'silent' }), store, createLogger('silent'));
      const zs = (await hub.services.users.findByUsername('张三'))!;
      expect(zs.uid).toBe(100);
      expect(await hub.services.hasher.verify(zs.passwordHash, 'zs-pw')).toBe(true);
    } finally {
      await store.close();
    }
  });

  test('a second run does not bring back a member an admin deleted (before: "imported 1", active again with the old md5 password); --include-deleted does, on purpose', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ucimport-'));
    const csv = join(dir, 'members.csv');
    await writeFile(csv, `uid,username,email,password,salt,regdate\n501,olduser,old@example.com,${ucHash('old-pw', 'abc123')},abc123,1300000000\n`);
    expect((await run('ucenter', 'import', csv)).out).toMatch(/imported 1 users, skipped 0;/);
    expect((await run('users', 'delete', 'olduser')).code).toBe(0);
    const again = await run('ucenter', 'import', csv);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/skipped uid 501 \(olduser\): imported before and deleted by an admin since \(--include-deleted brings it back\)/);
    expect(again.out).toMatch(/imported 0 users, skipped 1 \(1 of them deleted by an admin after an earlier import\);/);
    expect((await run('users', 'list')).out).not.toMatch(/olduser/);
    // Remembered by name too: a later dump with the member under another uid and spelling does not bring it back either.
    const renumbered = join(dir, 'renumbered.csv');
    await writeFile(renumbered, `uid,username,email,password,salt,regdate\n502,OldUser,old@example.com,${ucHash('old-pw', 'abc123')},abc123,0\n`);
    expect((await run('ucenter', 'import', renumbered)).out).toMatch(/imported 0 users, skipped 1 \(1 of them deleted/);

    const back = await run('ucenter', 'import', csv, '--include-deleted');
    expect(back.out).toMatch(/imported 1 users, skipped 0;/);
    const store = new RedisStore(await connectRedis(TEST_REDIS_URL));
    try {
      const hub = await createHub(loadConfig({ ...env, LOG_LEVEL: 'silent' }), store, createLogger('silent'));
      const olduser = (await hub.services.users.findByUid(501))!;
      expect(olduser.username).toBe('olduser');
      expect(await hub.services.hasher.verify(olduser.passwordHash, 'old-pw')).toBe(true);
    } finally {
      await store.close();
    }
  });

  test('a dump without CREATE TABLE uses uc_members\' column order', () => {
    const rows = parseMysqldump(`INSERT INTO uc_members VALUES (1,'a','${'0'.repeat(32)}','a@x.io','','','',5,0,0,'s','');`);
    expect(rows).toEqual([{ uid: 1, username: 'a', email: 'a@x.io', password: '0'.repeat(32), salt: 's', regdate: 5 }]);
  });
});

/**
 * A CLI on a KEY_PREFIX of its own, a forum export of three members (a founder, a Chinese name,
 * an ASCII one), and who holds a uid at the hub (read through a hub on that prefix).
 */
function importFixture(tag: string) {
  const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: `test:${tag}:${randomUUID()}:`, HUB_ISSUER: 'http://hub.test' };
  const { run, cleanUp } = cliHarness(env);
  afterAll(cleanUp);
  const rows = `uid,username,email,password,salt,regdate\n1,管理员,founder@forum.test,${ucHash('founder-pw', 'a1')},a1,1200000000\n2,张三,zs@forum.test,${ucHash('zs-pw', 'b2')},b2,1200000001\n3,lisi,ls@forum.test,${ucHash('ls-pw', 'c3')},c3,1200000002\n`;
  const uidOf = async (uid: number) => {
    const store = new RedisStore(await connectRedis(TEST_REDIS_URL));
    try {
      const hub = await createHub(loadConfig({ ...env, LOG_LEVEL: 'silent' }), store, createLogger('silent'));
      return (await hub.services.users.findByUid(uid))?.username;
    } finally {
      await store.close();
    }
  };
  return { run, rows, uidOf };
}

describe('ucenter import: what an operator hands it (an operator review)', () => {
  const { run, rows, uidOf } = importFixture('ucli-op');

  test('an export in GBK is refused, nothing written, until --charset gbk reads it (before: its Chinese names skipped as "A username has 2 to 64 letters", the ASCII ones imported)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ucimport-'));
    const gbk = join(dir, 'members-gbk.csv');
    // 张三 and 管理员 in GBK: not UTF-8.
    const encoded = Buffer.concat(rows.split(/(管理员|张三)/).map((part) => (part === '张三' ? Buffer.from([0xd5, 0xc5, 0xc8, 0xfd]) : part === '管理员' ? Buffer.from([0xb9, 0xdc, 0xc0, 0xed, 0xd4, 0xb1]) : Buffer.from(part))));
    await writeFile(gbk, encoded);
    const refused = await run('ucenter', 'import', gbk);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`${gbk} is not UTF-8 text (the export of a GBK or BIG5 forum?): nothing imported; run the import again with --charset gbk`);
    expect(await uidOf(3)).toBeUndefined();
    expect((await run('ucenter', 'import', gbk, '--charset', 'latin1')).out).toMatch(/--charset names the export's character set: utf-8, gbk, big5/);
    const read = await run('ucenter', 'import', gbk, '--charset', 'gbk');
    expect(read.out).toMatch(/imported 3 users, skipped 0;/);
    expect(await uidOf(1)).toBe('管理员');
    expect(await uidOf(2)).toBe('张三');
  });
});

describe('ucenter import after users were made at the hub (an operator review)', () => {
  const { run, rows, uidOf } = importFixture('ucli-uid');

  test('hub users holding the export\'s uids under other names stop the import, named, nothing written (before: "skipped uid 1: The uid 1 is taken", exit 0, and the hub user became that member at every UCenter application)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ucimport-'));
    const csv = join(dir, 'members.csv');
    await writeFile(csv, rows);
    // Made at the hub first (admin bootstrap, users add): uids 1 and 2.
    expect((await run('users', 'add', '--username', 'staff', '--email', 'staff@hub.test', '--password', 'correct-horse-staff-1')).code).toBe(0);
    expect((await run('users', 'add', '--username', '张三', '--email', 'zs@forum.test', '--password', 'correct-horse-zs-1')).code).toBe(0);
    expect(await uidOf(1)).toBe('staff');
    const refused = await run('ucenter', 'import', csv);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('1 uid(s) of the export belong to hub users of other names, made at the hub before the import: nothing imported');
    expect(refused.out).toContain('  uid 1: hub user staff, in the export 管理员');
    // 张三 holds uid 2 under the same name: the same member, not a clash.
    expect(refused.out).not.toContain('uid 2');
    expect(refused.out).toContain('Delete those hub users (users delete NAME) and run the import again');
    expect(await uidOf(3)).toBeUndefined();
    expect((await run('users', 'delete', 'staff')).code).toBe(0);
    expect((await run('ucenter', 'import', csv)).out).toMatch(/imported 2 users, skipped 1;/);
    expect(await uidOf(1)).toBe('管理员');
    expect((await run('users', 'add', '--username', 'staff', '--email', 'staff@hub.test', '--password', 'correct-horse-staff-1')).code).toBe(0);
    expect((await run('users', 'list')).out).toMatch(/staff/);
    expect(await uidOf(4)).toBe('staff');
  });
});

describe.each(STORE_KINDS)('ucenter import on %s: an admin\'s deletion stands', (kind) => {
  let hub: RunningHub;
  beforeEach(async () => {
    hub = await startTestHub(kind);
  });
  afterEach(async () => {
    await hub.close();
  });
  const members = parseCsvMembers(`uid,username,email,password,salt,regdate\n501,olduser,old@example.com,${ucHash('old-pw', 'abc123')},abc123,1300000000\n`);

  test('a member imported, then deleted, is skipped by the next run and counted', async () => {
    expect(await importUcMembers(hub.services, members)).toMatchObject({ imported: 1, deleted: 0 });
    await hub.services.users.delete((await hub.services.users.findByUid(501))!.id);
    const again = await importUcMembers(hub.services, members);
    expect(again).toEqual({ imported: 0, deleted: 1, skipped: [{ uid: 501, username: 'olduser', reason: expect.stringMatching(/deleted by an admin/) }] });
    expect(await hub.services.users.findByLogin('olduser')).toBeUndefined();
    expect(await importUcMembers(hub.services, members, { includeDeleted: true })).toMatchObject({ imported: 1, deleted: 0 });
  });

  test('a member imported before the hub kept its ledger is remembered when a run finds it there', async () => {
    await hub.services.users.importUser({ uid: 501, username: 'olduser', email: 'old@example.com', passwordHash: legacyHashFrom(ucHash('old-pw', 'abc123'), 'abc123')! });
    expect(await importUcMembers(hub.services, members)).toMatchObject({ imported: 0, deleted: 0 });
    await hub.services.users.delete((await hub.services.users.findByUid(501))!.id);
    expect(await importUcMembers(hub.services, members)).toMatchObject({ imported: 0, deleted: 1 });
  });

  test('a name taken by someone else is not remembered: the member is imported once that user is gone', async () => {
    const other = await hub.services.users.create({ username: 'olduser', email: 'other@example.com', password: 'long-enough-1' });
    expect(await importUcMembers(hub.services, members)).toMatchObject({ imported: 0, deleted: 0 });
    await hub.services.users.delete(other.id);
    expect(await importUcMembers(hub.services, members)).toMatchObject({ imported: 1, deleted: 0 });
  });
});

describe('ucenter import: uids UCenter gave to members deleted since (a UCenter review)', () => {
  const { run, uidOf } = importFixture('ucli-next');

  test("new hub users start at the dump's AUTO_INCREMENT, not after the highest exported uid (before: a new user got the uid of the forum's last, deleted member, and with it that member's kept posts)", async () => {
    // Members 41 and 42 registered last and were deleted at the forum, their posts kept (Discuz!'s
    // admin center): UCenter's next uid is 43, and the forum's posts still point at 41 and 42.
    const dir = await mkdtemp(join(tmpdir(), 'ucimport-'));
    const sql = join(dir, 'dump.sql');
    await writeFile(sql, DUMP.replace(') ENGINE=InnoDB DEFAULT CHARSET=utf8;', ') ENGINE=InnoDB AUTO_INCREMENT=43 DEFAULT CHARSET=utf8;'));
    expect((await run('ucenter', 'import', sql)).out).toMatch(/imported 2 users, skipped 0;/);
    expect((await run('users', 'add', '--username', 'newcomer', '--email', 'new@hub.test', '--password', 'correct-horse-new-1')).code).toBe(0);
    expect(await uidOf(41)).toBeUndefined();
    expect(await uidOf(43)).toBe('newcomer');
  });

  test('a CSV has no AUTO_INCREMENT: --next-uid gives it; a bad one is refused before anything is read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ucimport-'));
    const csv = join(dir, 'members.csv');
    await writeFile(csv, `uid,username,email,password,salt,regdate\n50,gina,gina@example.com,${ucHash('gina-pw', 'g1')},g1,1300000000\n`);
    const bad = await run('ucenter', 'import', csv, '--next-uid', 'ten');
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/--next-uid takes a whole number/);
    expect(await uidOf(50)).toBeUndefined();
    expect((await run('ucenter', 'import', csv, '--next-uid', '60')).out).toMatch(/imported 1 users, skipped 0;/);
    expect((await run('users', 'add', '--username', 'second', '--email', 'second@hub.test', '--password', 'correct-horse-sec-1')).code).toBe(0);
    expect(await uidOf(60)).toBe('second');
  });
});
