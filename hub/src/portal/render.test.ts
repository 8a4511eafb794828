import express from 'express';
import request from 'supertest';
import { Views } from '../views/views.js';
import { syncMarkup, type SyncPlan } from '../sync/sync-page.js';
import { renderSyncPage, tagChunks } from './render.js';

describe('the sync page sent in chunks (issue 14)', () => {
  const views = new Views({ issuer: 'http://hub.test' });
  const planOf = (count: number): SyncPlan => {
    const tags = Array.from({ length: count }, (_, i) => `<img class="beacon" src="http://127.1.0.${i}:9/s${i}/sso/synclogin?time=1&amp;code=c${i}" alt="" width="1" height="1" data-client="s${i}">`);
    return { act: 'login', beacons: [], csp: "default-src 'self'", tags };
  };

  test.each([0, 1, 63, 64, 65, 200])('with %i beacons: the page the template renders with every tag in it, its exact length, no ETag', async (count) => {
    const plan = planOf(count);
    const app = express();
    app.post('/', (_req, res) => renderSyncPage(res, views, plan, 'http://hub.test/auth/x?a=1&b=2', 1500));
    const response = await request(app).post('/').buffer(true);
    const expected = views.render('hub/sync.njk', { switchNext: '/', plan: { act: plan.act, markup: syncMarkup(plan) }, continueUrl: 'http://hub.test/auth/x?a=1&b=2', waitMs: 1500 });
    expect(response.status).toBe(200);
    expect(response.text).toBe(expected);
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(expected)));
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toBe(plan.csp);
    expect(response.headers.etag).toBeUndefined();
    expect((response.text.match(/class="beacon"/g) ?? []).length).toBe(count);
  });

  test('each chunk is the UTF-8 of its tags: ASCII ones copied byte for byte, others encoded (a client id or URL that is not ASCII)', () => {
    const tags = [...planOf(70).tags];
    tags[3] = tags[3]!.replace('data-client="s3"', 'data-client="s3-é"');
    tags[66] = tags[66]!.replace('data-client="s66"', 'data-client="s66-论坛-\u{1F600}-\u00ff"');
    const chunks = tagChunks(tags);
    expect(chunks).toHaveLength(2);
    expect(Buffer.concat(chunks).equals(Buffer.from(syncMarkup({ tags })))).toBe(true);
    expect(Buffer.concat(tagChunks(planOf(70).tags)).equals(Buffer.from(syncMarkup(planOf(70))))).toBe(true);
  });
});
