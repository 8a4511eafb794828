import { LRUCache } from 'lru-cache';
import type { AdapterPayload } from 'oidc-provider';
import { digest } from '../store/keys.js';

/**
 * Token kinds oidc-provider looks a token value up as, one after another or side by side
 * (introspection and revocation try each): a value is the id of one of them at most.
 */
const TOKEN_MODELS: ReadonlySet<string> = new Set(['AccessToken', 'ClientCredentials', 'RefreshToken', 'AuthorizationCode']);

/**
 * Token kinds remembered when they are issued: a client brings them back next. Not
 * client_credentials tokens, which a busy service client issues by the thousand (they would push
 * the others out); those are remembered once read in a request that follows them.
 */
const REMEMBERED_ON_ISSUE: ReadonlySet<string> = new Set(['AccessToken', 'RefreshToken', 'AuthorizationCode']);

/**
 * How many tokens' leads one hub process remembers (least recently used go first): about 300
 * bytes each, 3 MB in all. The token a client brings back next (userinfo right after the token
 * endpoint, a resource server introspecting the same token on every call) is usually among the
 * last few thousand.
 */
const KNOWN_TOKENS = 10_000;

/**
 * What a token leads to: its kind, and the ids of its session (when the token ends with it),
 * account and grant (the grant's as the digest its key is made of).
 */
export interface Leads {
  model: string;
  sessionUid: string | undefined;
  accountId: string | undefined;
  grantDigest: string | undefined;
}

/**
 * What this process knows tokens lead to, by the digest of each token's id. None of it ever
 * changes for a token, so what is learned once stays true; what it points to is still read from
 * the store on every use. Learned only from records: a token this process wrote, or one it found
 * stored, never a value from a request.
 */
export class TokenLeads {
  readonly #known = new LRUCache<string, Leads>({ max: KNOWN_TOKENS });

  /** Whether records of this kind are tokens (the only ones remembered). */
  static isToken(model: string): boolean {
    return TOKEN_MODELS.has(model);
  }

  /** A token of `model` was written: remembered if it is a kind a client brings back. */
  issued(model: string, idDigest: string, token: AdapterPayload): void {
    if (REMEMBERED_ON_ISSUE.has(model)) this.#known.set(idDigest, TokenLeads.#of(model, token));
  }

  /** A token of `model` was found stored: remembered, and what it leads to returned. */
  found(model: string, idDigest: string, token: AdapterPayload): Leads {
    const leads = TokenLeads.#of(model, token);
    if (TOKEN_MODELS.has(model)) this.#known.set(idDigest, leads);
    return leads;
  }

  /** What the token with this id digest leads to, if it is known here. */
  get(idDigest: string): Leads | undefined {
    return this.#known.get(idDigest);
  }

  static #of(model: string, token: AdapterPayload): Leads {
    return {
      model,
      sessionUid: token.expiresWithSession && typeof token.sessionUid === 'string' ? token.sessionUid : undefined,
      accountId: typeof token.accountId === 'string' ? token.accountId : undefined,
      grantDigest: typeof token.grantId === 'string' ? digest(token.grantId) : undefined,
    };
  }
}
