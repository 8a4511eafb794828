import { randomBytes } from 'node:crypto';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import type { RenderedMail } from './mail-message.js';
import type { MailTransport } from './mail-transport.js';

export const OUTBOX_TTL_SECONDS = 86_400; // one day: a message then disappears
export const OUTBOX_MAX_MESSAGES = 200; // the oldest go first past this

export interface OutboxMessage extends RenderedMail {
  id: string;
  /** epoch ms */
  sentAt: number;
}

const ID = /^[0-9a-z]{10}-[0-9a-z]{6}-[0-9a-f]{8}$/;
let sequence = 0;

/**
 * Ids that sort by send time (and by order within one millisecond in this process): the index
 * orders members of equal score by name, so the newest stays first and the oldest goes first.
 */
function nextId(now: number): string {
  sequence = (sequence + 1) % 36 ** 6;
  return `${now.toString(36).padStart(10, '0')}-${sequence.toString(36).padStart(6, '0')}-${randomBytes(4).toString('hex')}`;
}

/**
 * The development outbox (`MAIL_DEV_OUTBOX=true`, no SMTP): mail is kept in the store instead of
 * being sent, shown at `/dev/outbox`. Bounded in time (each message has a TTL) and in number
 * (the oldest beyond `OUTBOX_MAX_MESSAGES` are deleted), so sign-up spam cannot fill the store.
 */
export class DevOutbox implements MailTransport {
  readonly kind = 'outbox' as const;

  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
    private readonly limits = { ttlSeconds: OUTBOX_TTL_SECONDS, maxMessages: OUTBOX_MAX_MESSAGES },
  ) {}

  async deliver(mail: RenderedMail): Promise<void> {
    const sentAt = Date.now();
    const message: OutboxMessage = { ...mail, id: nextId(sentAt), sentAt };
    await this.store.set(this.keys.mailOutboxItem(message.id), JSON.stringify(message), { ttlSeconds: this.limits.ttlSeconds });
    // Scored by expiry, which grows with the send time: the lowest scores are the oldest.
    await this.store.zAddExpiring(this.keys.mailOutbox(), message.id, message.sentAt + this.limits.ttlSeconds * 1000);
    const excess = (await this.store.zCard(this.keys.mailOutbox())) - this.limits.maxMessages;
    if (excess > 0) {
      const oldest = await this.store.zRangeByScore(this.keys.mailOutbox(), 0, Number.MAX_SAFE_INTEGER, excess);
      for (const id of oldest) await this.store.zRemove(this.keys.mailOutbox(), id);
      if (oldest.length) await this.store.del(...oldest.map((id) => this.keys.mailOutboxItem(id)));
    }
  }

  /** Newest first. */
  async list(limit = 50): Promise<OutboxMessage[]> {
    const ids = await this.store.zRevRange(this.keys.mailOutbox(), 0, limit - 1);
    if (!ids.length) return [];
    const raws = await this.store.getMany(ids.map((id) => this.keys.mailOutboxItem(id)));
    return raws.filter((raw): raw is string => raw !== null).map((raw) => JSON.parse(raw) as OutboxMessage);
  }

  async find(id: string): Promise<OutboxMessage | undefined> {
    if (!ID.test(id)) return undefined;
    const raw = await this.store.get(this.keys.mailOutboxItem(id));
    return raw ? (JSON.parse(raw) as OutboxMessage) : undefined;
  }

  async close(): Promise<void> {}
}
