import { msg, ValidationError } from '../errors.js';
import type { AccountTokens } from '../users/account-tokens.js';
import { EMAIL } from '../users/user-repository.js';

export const INVITE_DEFAULT_DAYS = 7;
export const INVITE_MAX_DAYS = 30;

/** What an invite link carries (in the store, under the digest of its token). */
export interface Invite {
  /** Who issued it: an admin's user id or `cli`. */
  createdBy: string;
  createdAt: number; // epoch ms
  expiresAt: number; // epoch ms
  /** When set, the account must be made with this address. */
  email?: string;
}

/**
 * The days of an invite as typed (the console's field, the CLI's `--days`): decimal digits only.
 * `Number()` took `0x10` as 16 and `1e1` as 10 (an attacker's review); anything but digits is NaN,
 * which {@link Invites.create} refuses with the reason.
 */
export function parseInviteDays(text: string): number {
  const trimmed = text.trim();
  return /^[0-9]{1,6}$/.test(trimmed) ? Number(trimmed) : NaN;
}

/**
 * Single-use sign-up links for `HUB_SIGNUP=invite`, issued by an admin (console or CLI). The
 * token is only in the link; the store keeps its digest (AccountTokens), with a TTL.
 */
export class Invites {
  constructor(
    private readonly tokens: AccountTokens,
    private readonly issuer: string,
  ) {}

  async create(input: { createdBy: string; email?: string; days?: number }): Promise<{ link: string; invite: Invite }> {
    const days = input.days ?? INVITE_DEFAULT_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > INVITE_MAX_DAYS) throw new ValidationError(msg('errors:inviteDays', { max: INVITE_MAX_DAYS }));
    const email = input.email?.trim() || undefined;
    if (email && !EMAIL.test(email)) throw new ValidationError(msg('errors:emailFormat'));
    const now = Date.now();
    const invite: Invite = { createdBy: input.createdBy, createdAt: now, expiresAt: now + days * 86_400_000, ...(email ? { email } : {}) };
    const token = await this.tokens.issue('signup-invite', invite, days * 86_400);
    return { link: `${this.issuer}/signup?invite=${encodeURIComponent(token)}`, invite };
  }

  /** The invite behind a link, without using it up (the form). */
  peek(token: string): Promise<Invite | undefined> {
    return this.tokens.peek<Invite>('signup-invite', token);
  }

  /** Uses the invite up; undefined when unknown, expired or already used. */
  take(token: string): Promise<Invite | undefined> {
    return this.tokens.take<Invite>('signup-invite', token);
  }
}
