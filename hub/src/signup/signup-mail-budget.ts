import { addressKey } from '../security/address-key.js';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';

export const MAIL_WINDOW_SECONDS = 3600; // one hour: the window of both counts below

/** Why a sign-up mail was not sent: the asking network had its share, or the address its hour. */
export type MailRefusal = 'network' | 'address';

export interface SignupMailBudgetOptions {
  store: Store;
  keys: Keys;
  /** Mails to one address one network may cause per window (SIGNUP_MAILS_PER_NETWORK). */
  perNetwork: number;
  /** Mails to one address per window, all networks together (SIGNUP_MAILS_PER_ADDRESS). */
  perAddress: number;
}

/**
 * How many sign-up mails (a verification link, or "someone tried to sign up with your address")
 * go to one address, counted through the store so every hub process shares the counts.
 *
 * One count for the address alone was a lock anyone could put on its owner (a review): a
 * stranger's three sign-ups with the address, from one network, used up its hour, and the
 * owner's own sign-up and resends then sent nothing. So each network (an IPv4 address, an IPv6
 * /64: `addressKey`) gets its own small share of an address's mails, and only a mail within
 * that share counts toward the address's overall cap: one network asking again and again never
 * reaches the cap, only several networks together do. The overall cap is what still bounds the
 * mail one address can be sent through the hub (mail-bombing); past either, nothing is sent and
 * the caller's answer stays the same.
 */
export class SignupMailBudget {
  constructor(private readonly options: SignupMailBudgetOptions) {}

  /**
   * Counts one mail to `email` asked for from `ip`: undefined when it may go, else why not.
   * Throws StoreUnavailableError when the store fails.
   */
  /**
   * Gives back a mail {@link take} let go that the SMTP server did not take: the counts are of
   * mail sent, and an outage must not leave the owner's resend sending nothing for an hour once
   * the server is back (a mail-fault review). Best effort: a store that fails keeps the count.
   */
  async giveBack(email: string, ip: string): Promise<void> {
    const { store, keys } = this.options;
    await Promise.allSettled([
      store.incr(keys.signupNetworkMails(email, addressKey(ip)), MAIL_WINDOW_SECONDS, -1),
      store.incr(keys.signupAddressMails(email), MAIL_WINDOW_SECONDS, -1),
    ]);
  }

  async take(email: string, ip: string): Promise<MailRefusal | undefined> {
    const { store, keys, perNetwork, perAddress } = this.options;
    // The network first: a network past its share must not count toward the address's cap,
    // or one network asking often enough would use up every other network's mail again.
    const fromNetwork = await store.incr(keys.signupNetworkMails(email, addressKey(ip)), MAIL_WINDOW_SECONDS);
    if (fromNetwork > perNetwork) return 'network';
    const toAddress = await store.incr(keys.signupAddressMails(email), MAIL_WINDOW_SECONDS);
    if (toAddress > perAddress) return 'address';
    return undefined;
  }
}
