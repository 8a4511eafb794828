import type { RenderedMail } from './mail-message.js';

/** Where rendered mail goes: an SMTP server, or the development outbox. */
export interface MailTransport {
  readonly kind: 'smtp' | 'outbox';
  deliver(mail: RenderedMail): Promise<void>;
  close(): Promise<void>;
}
