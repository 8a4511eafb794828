/**
 * docs/subsite-protocol.md §9 against the hub's own code: its sync-code test vector against the
 * hub's signer, and its PHP (run with php-cli, as a site without the kit would) against sync
 * codes from that signer and delivery tokens signed with the hub's own kinds of keys. An outside
 * review wrote a PHP subsite from the page alone and had to find out by trial how to load a JWK
 * into PHP's openssl (it has no import for one) and that PHP 8.2's openssl cannot verify Ed25519;
 * the page now says both, and this test fails if the page's code and the hub disagree. CI
 * installs php-cli (.ci/run); without PHP this test fails.
 */
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeliveryTokens } from '../src/delivery/delivery-tokens.js';
import type { DeliveryItem } from '../src/delivery/delivery.js';
import { newSigningKeys, type SigningAlg } from '../src/secrets/secrets.js';
import { signSyncCode, syncCodeSigner } from '../src/sync/sync-codes.js';

const DOC = fileURLToPath(new URL('../../docs/subsite-protocol.md', import.meta.url));

/** The fenced block right after `<!-- marker -->`. */
function blockAfter(doc: string, marker: string): string {
  const match = new RegExp(`<!-- ${marker} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(doc);
  if (!match) throw new Error(`docs/subsite-protocol.md has no block after <!-- ${marker} -->`);
  return match[1]!;
}

/** Runs the page's PHP with `driver` appended; `input` arrives as JSON on standard input, the answer is JSON on standard output. */
async function runPhp(recipe: string, driver: string, input: unknown): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'subsite-doc-'));
  try {
    const file = join(dir, 'check.php');
    await writeFile(file, `${recipe}\n${driver}\n`);
    const output = await new Promise<string>((resolve, reject) => {
      const child = execFile('php', [file], { timeout: 20_000 }, (error, stdout, stderr) => (error ? reject(new Error(`php: ${error.message} ${stderr}`)) : resolve(stdout)));
      child.stdin!.end(JSON.stringify(input));
    });
    return JSON.parse(output) as unknown;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Each case's outcome: the claims (or [header, claims]) it returned, or the message it refused with. */
const DRIVER = `
$in = json_decode(file_get_contents('php://stdin'), true);
$out = [];
foreach ($in['cases'] as $case) {
    try {
        $out[] = ['ok' => $case['fn'] === 'sync'
            ? verify_sync_code($case['code'], $case['time'], $case['act'], $case['keys'], $case['issuer'], $case['clientId'], $case['now'] ?? null)
            : verify_hub_jws($case['jws'], $case['jwks'], $case['alg'])];
    } catch (Throwable $e) {
        $out[] = ['refused' => $e->getMessage()];
    }
}
echo json_encode($out);
`;

describe('docs/subsite-protocol.md §9 against the hub', () => {
  let doc: string;
  let vector: Record<string, string>;
  let recipe: string;

  beforeAll(async () => {
    doc = await readFile(DOC, 'utf8');
    vector = Object.fromEntries(
      blockAfter(doc, 'sync-code-vector')
        .split('\n')
        .map((line) => /^([^:]+):\s+(.*)$/.exec(line)!)
        .map((m) => [m[1]!.trim(), m[2]!.trim()]),
    );
    recipe = blockAfter(doc, 'php-recipe');
  });

  it("the test vector is what the hub's signer writes: its header, its claims byte for byte (but the jti), HMAC-SHA256 keyed with the key's characters", () => {
    const claims = JSON.parse(vector['claims (JSON)']!) as { act: 'login'; sid: string; iss: string; aud: string; iat: number; exp: number; jti: string };
    const key = vector['sync key']!;
    const hubCode = syncCodeSigner({ issuer: claims.iss, act: claims.act, sid: claims.sid, iat: claims.iat, ttlSeconds: 60 })(claims.aud, key);
    const [hubHeader, hubPayload, hubSignature] = hubCode.split('.');
    expect(Buffer.from(hubHeader!, 'base64url').toString()).toBe(vector['header (JSON)']);
    const hubClaims = Buffer.from(hubPayload!, 'base64url').toString();
    const hubJti = (JSON.parse(hubClaims) as { jti: string }).jti;
    expect(hubClaims.replace(hubJti, claims.jti)).toBe(vector['claims (JSON)']);
    // The hub's signature is the HMAC the page describes; the page's numbers are that HMAC of its input.
    expect(hubSignature).toBe(createHmac('sha256', Buffer.from(key, 'utf8')).update(`${hubHeader}.${hubPayload}`).digest('base64url'));
    const [header, payload] = vector['signing input']!.split('.');
    expect(header).toBe(hubHeader);
    expect(Buffer.from(payload!, 'base64url').toString()).toBe(vector['claims (JSON)']);
    expect(createHmac('sha256', key).update(vector['signing input']!).digest('hex')).toBe(vector['HMAC-SHA256 hex']);
    expect(Buffer.from(vector['signature']!, 'base64url').toString('hex')).toBe(vector['HMAC-SHA256 hex']);
    expect(vector['beacon']).toContain(`?time=${claims.iat}&code=`);
  });

  it("the page's PHP verifies the vector and the hub's own sync codes, with the previous key too, and refuses a wrong key, act, time or audience", async () => {
    const claims = JSON.parse(vector['claims (JSON)']!) as { iss: string; aud: string; iat: number };
    const vectorCode = `${vector['signing input']}.${vector['signature']}`;
    const key = 'a-subsite-sync-key-0123456789abcdefghijklm';
    const now = Math.floor(Date.now() / 1000);
    const hub = (act: 'login' | 'logout' | 'test', clientId = 'phpsite') => signSyncCode({ issuer: 'http://hub.test', clientId, key, act, sid: 'sid-1', iat: now, ttlSeconds: 60 });
    const sync = (code: string, act: string, keys: string[], extra: Record<string, unknown> = {}) =>
      ({ fn: 'sync', code, time: String(now), act, keys, issuer: 'http://hub.test', clientId: 'phpsite', ...extra });
    const out = (await runPhp(recipe, DRIVER, {
      cases: [
        { fn: 'sync', code: vectorCode, time: String(claims.iat), act: 'login', keys: [vector['sync key']], issuer: claims.iss, clientId: claims.aud, now: claims.iat + 10 },
        sync(hub('login'), 'login', [key]),
        sync(hub('logout'), 'logout', ['the-new-key-the-hub-does-not-sign-with-yet', key]), // a rotation's overlap
        sync(hub('test'), 'logout', [key]),
        sync(hub('login'), 'login', ['another-key-0123456789abcdefghijklmnopqrstu']),
        sync(hub('login'), 'logout', [key]),
        sync(hub('login'), 'login', [key], { time: String(now - 1) }),
        sync(hub('login', 'othersite'), 'login', [key]),
        sync(hub('login'), 'login', [key], { now: now + 91 }),
      ],
    })) as Array<{ ok?: Record<string, unknown>; refused?: string }>;
    expect(out[0]).toEqual({ ok: JSON.parse(vector['claims (JSON)']!) });
    expect(out[1]!.ok).toMatchObject({ act: 'login', aud: 'phpsite', iat: now, exp: now + 60 });
    expect(out[2]!.ok).toMatchObject({ act: 'logout', sid: 'sid-1' });
    expect(out[3]!.ok).toMatchObject({ act: 'test' });
    expect(out.slice(4).map((o) => o.refused)).toEqual(['bad signature', 'wrong act', 'time is not iat', 'wrong iss or aud', 'expired or not yet valid']);
  });

  it("the page's PHP verifies the hub's userdelete token (RS256) and logout tokens in each ID-token algorithm against the public JWKS, and refuses a forged one", async () => {
    const privateKeys = await newSigningKeys();
    const publicJwks = {
      keys: privateKeys.map((key) => Object.fromEntries(Object.entries(key).filter(([name]) => !['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(name)))),
    };
    const tokens = new DeliveryTokens(() => ({ keys: privateKeys }), 'http://hub.test');
    const item = (kind: DeliveryItem['kind']): DeliveryItem =>
      ({ id: 'i', kind, clientId: 'phpsite', sub: 'user-1', sid: 'sid-1', reason: 'deleted', url: 'http://x/', status: 'pending', attempts: 0, createdAt: Date.now(), nextAttemptAt: 0 }) as DeliveryItem;
    const cases: Array<{ fn: 'jws'; jws: string; jwks: unknown; alg: SigningAlg }> = [{ fn: 'jws', jws: await tokens.sign(item('userdelete'), 'ES256'), jwks: publicJwks, alg: 'RS256' }];
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) cases.push({ fn: 'jws', jws: await tokens.sign(item('backchannel-logout'), alg), jwks: publicJwks, alg });
    const forged = (jws: string) => {
      const [header, , signature] = jws.split('.');
      return `${header}.${Buffer.from(JSON.stringify({ sub: 'someone-else' })).toString('base64url')}.${signature}`;
    };
    const refusals = cases.map((c) => ({ ...c, jws: forged(c.jws) }));
    const out = (await runPhp(recipe, DRIVER, { cases: [...cases, ...refusals] })) as Array<{ ok?: [Record<string, unknown>, Record<string, unknown>]; refused?: string }>;
    expect(out[0]!.ok).toEqual([expect.objectContaining({ alg: 'RS256', typ: 'userdelete+jwt' }), expect.objectContaining({ sub: 'user-1', aud: 'phpsite', events: { 'urn:sso-hub:event:userdelete': expect.objectContaining({ reason: 'deleted' }) } })]);
    for (const [i, alg] of (['RS256', 'ES256', 'EdDSA'] as const).entries()) {
      expect(out[i + 1]!.ok).toEqual([expect.objectContaining({ alg, typ: 'logout+jwt' }), expect.objectContaining({ sub: 'user-1', sid: 'sid-1' })]);
    }
    expect(out.slice(4).map((o) => o.refused)).toEqual(['bad signature', 'bad signature', 'bad signature', 'bad signature']);
  });
});
