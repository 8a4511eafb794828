/**
 * UCenter's message centre (`m=pm_client`): uc_pm_location() (Discuz! 6/7's pm.php, other
 * UCenter clients' "Messages" link) and uc_pm_send() with instantly=0 redirect the member's
 * browser there. The hub keeps no private messages and answered "Action not found!" as a bare
 * text page (found with Discuz! X3.5's own uc_client run with php-cli against the hub). The member
 * now gets the portal's page saying so, in their language, with nothing of the call's input.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { UcClient } from '../src/testing/ucenter-client.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

let hub: RunningHub;
let location: string;

beforeAll(async () => {
  hub = await startTestHub('memory');
  const app = await hub.services.ucenter.apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test' });
  const client = new UcClient({ api: `${hub.url}/ucenter`, key: app.key, appId: app.appId });
  // As uc_pm_location(7) builds it: uc_api_url('pm_client', 'ls', 'uid=7').
  location = `${hub.url}/ucenter/index.php?${client.requestBody('pm_client', 'ls', { uid: 7 })}&folder=newbox`;
});
afterAll(() => hub.close());

it("the member's browser gets a page saying there are no private messages here, not \"Action not found!\"", async () => {
  const response = await fetch(location, { headers: { accept: 'text/html', 'accept-language': 'en' } });
  const page = await response.text();
  expect(response.status).toBe(404);
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  expect(page).toContain('Private messages are not available here');
  expect(page).not.toContain('Action not found!');
  expect(page).not.toContain('input=');
});

it('in the reader\'s language', async () => {
  const response = await fetch(location, { headers: { accept: 'text/html', 'accept-language': 'zh-CN' } });
  expect(await response.text()).toContain('此处没有站内短消息');
});
