import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { makeSite, HTML } from '../test-support/site.js';
import { startStubHub, HUB_URL, type StubHub } from '../test-support/stub-hub.js';
import { logText } from '../log-text.js';

/**
 * The callback's log lines name what the answer said (`error`, `error_description`, a foreign
 * `iss`). Anyone can start a sign-in of their own and then open `/sso/callback` with its `state`
 * and values of their choosing: an outside review wrote a line break and a JSON line that looked
 * like another program's entry into a demo site's log (`error_description=x%0A{"level":"error",…}`).
 * Control and format characters now go into the line as visible `\uXXXX` escapes.
 */
let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

const FORGED = '\n{"level":"error","msg":"FORGED"}\r\u2028\u202Eevil';

async function pendingSignIn(lines: string[]) {
  const { app } = await makeSite(hub, { logger: { warn: (message: string) => { lines.push(message); } } });
  const agent = request.agent(app);
  const start = await agent.get('/sso/login?next=%2F').set(HTML);
  const state = new URL(start.headers.location!).searchParams.get('state')!;
  return { agent, state };
}

describe('GET /sso/callback: what the answer says goes into the log as one line', () => {
  it.each([
    ['error_description', { error: 'server_error', error_description: FORGED, iss: HUB_URL }],
    ['error', { error: `x${FORGED}`, iss: HUB_URL }],
    ['iss', { code: 'abc', iss: `http://evil.example/${FORGED}` }],
  ])('%s with line breaks and format characters: escaped in the log line', async (_name, params) => {
    const lines: string[] = [];
    const { agent, state } = await pendingSignIn(lines);
    const res = await agent.get(`/sso/callback?${new URLSearchParams({ state, ...params }).toString()}`).set(HTML);
    expect(res.status).toBeGreaterThanOrEqual(400);
    const logged = lines.filter((line) => line.includes('sign-in failed'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).not.toMatch(/[\r\n\u2028\u202E]/);
    expect(logged[0]).toContain('\\u000A{"level":"error","msg":"FORGED"}\\u000D\\u2028\\u202Eevil');
  });

  it('logText keeps printable text as it is', () => {
    expect(logText('invalid_grant (code expired, 张三)')).toBe('invalid_grant (code expired, 张三)');
    expect(logText('a\u0000b\u007Fc\u0085d\uFEFF')).toBe('a\\u0000b\\u007Fc\\u0085d\\uFEFF');
  });
});
