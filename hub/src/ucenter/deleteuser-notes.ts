import type { DeliveryQueue } from '../delivery/delivery-queue.js';
import type { DeliveryItem } from '../delivery/delivery.js';
import { errorSummary, type AttemptResult, type DeliverySender } from '../delivery/delivery-worker.js';
import type { UserRepository } from '../users/user-repository.js';
import { noteRequestUrl } from './notes.js';
import { noteUrl } from './ucenter-app.js';
import type { UcenterAppRegistry } from './ucenter-apps.js';

/** The delivery queue's client name for an application, and back. */
export function appClientId(appId: number): string {
  return `ucenter:${appId}`;
}

function appIdOf(clientId: string): number {
  const match = /^ucenter:(\d{1,9})$/.exec(clientId);
  return match ? Number(match[1]) : 0;
}

const MAX_ANSWER_BYTES = 1024; // "1" is all a note handler has to say

/**
 * Forced logout at UCenter applications: one `deleteuser` note (`ids` = the uid) per
 * application, through the hub's delivery queue. Success is UCenter's: the handler answers
 * `1`. Anything else (another body, a 5xx, no answer) is retried with the queue's backoff;
 * the code is made fresh, with its 60-second expiry, at every attempt.
 */
export class UcenterDeleteuserNotes implements DeliverySender {
  constructor(
    private readonly apps: UcenterAppRegistry,
    private readonly users: UserRepository,
    private readonly deliveries: DeliveryQueue,
  ) {}

  /** Queues the note at every application; returns how many. */
  async enqueueFor(userId: string): Promise<number> {
    const user = await this.users.findById(userId);
    if (!user) return 0;
    const uid = await this.users.uidOf(user);
    const apps = await this.apps.list();
    for (const app of apps) {
      await this.deliveries.enqueue({ kind: 'ucenter-deleteuser', clientId: appClientId(app.appId), sub: userId, ucenterUid: uid, url: noteUrl(app, true) });
    }
    return apps.length;
  }

  async target(item: DeliveryItem): Promise<string | undefined> {
    const app = await this.apps.find(appIdOf(item.clientId));
    return app ? noteUrl(app, true) : undefined;
  }

  async attempt(item: DeliveryItem, _url: string, timeoutMs: number): Promise<AttemptResult> {
    const app = await this.apps.find(appIdOf(item.clientId));
    if (!app || item.ucenterUid === undefined) return { retryAfter: 0, error: 'the application is gone', unsendable: true };
    let request: Request;
    try {
      request = new Request(noteRequestUrl(app, 'deleteuser', { ids: item.ucenterUid }, { internal: true }), { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (thrown) {
      return { retryAfter: 0, error: errorSummary(thrown), unsendable: true };
    }
    try {
      const response = await fetch(request);
      const body = Buffer.from(await response.arrayBuffer()).subarray(0, MAX_ANSWER_BYTES).toString('latin1').trim();
      const ok = response.status >= 200 && response.status < 300;
      if (ok && body === '1') return { status: response.status, retryAfter: 0 };
      return { status: response.status, retryAfter: 0, ...(ok ? { refused: true, error: 'the application did not answer 1' } : { error: `HTTP ${response.status}` }) };
    } catch (thrown) {
      return { retryAfter: 0, error: errorSummary(thrown) };
    }
  }
}
