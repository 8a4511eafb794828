import { createHash } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { authcodeDecode, authcodeEncode } from '../ucenter/authcode.js';
import { phpUrlencode } from '../ucenter/php-form.js';

/**
 * A UCenter client as a UCenter-bound application runs it (uc_client's uc_api_post with
 * UC_CONNECT = http), for the tests and the forum demo: the request is built the same way
 * (`m`, `a`, `inajax=2`, `release`, `input` = authcode of the arguments plus m/a/appid,
 * `agent` = md5(User-Agent) and `time`, `appid`) and arrays come back in UCenter's XML.
 */
export interface UcClientOptions {
  /** UC_API: the server's base URL (the client posts to `{api}/index.php`). */
  api: string;
  key: string;
  appId: number;
  userAgent?: string;
  /** UC_CLIENT_RELEASE. */
  release?: string;
  /** How long a call may take, in milliseconds (default {@link UC_CALL_TIMEOUT_MS}); uc_client's own socket timeout is 15 s. */
  timeoutMs?: number;
}

/** A call's default deadline: a stalled UCenter must not hold a sign-in page for minutes (undici's own wait). */
export const UC_CALL_TIMEOUT_MS = 5_000;

/** UCenter (the hub) could not be reached, did not answer in time, or answered other than 200: uc_client's empty answer. */
export class UcenterUnavailableError extends Error {
  override readonly name = 'UcenterUnavailableError';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`UCenter is unavailable: ${reason}`, options);
  }
}

export type UcParsed = string | UcParsed[] | { [key: string]: UcParsed };

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', cdataPropName: '#cdata', textNodeName: '#text', parseTagValue: false, isArray: (name) => name === 'item' });

type XmlNode = { id?: string; '#cdata'?: string; '#text'?: string; item?: XmlNode[] };

function fromItems(items: XmlNode[]): UcParsed {
  const entries = items.map((item): [string, UcParsed] => [item.id ?? '', item.item ? fromItems(item.item) : String(item['#cdata'] ?? item['#text'] ?? '')]);
  const isList = entries.every(([key], index) => key === String(index));
  return isList ? entries.map(([, value]) => value) : Object.fromEntries(entries);
}

/** uc_unserialize: UCenter's XML to arrays (lists when the ids are 0..n-1), or '' when it is not that XML. */
export function ucUnserialize(xml: string): UcParsed {
  try {
    const doc = parser.parse(xml) as { root?: { item?: XmlNode[] } | string };
    if (!doc.root) return '';
    return typeof doc.root === 'object' && doc.root.item ? fromItems(doc.root.item) : [];
  } catch {
    return '';
  }
}

export class UcClient {
  constructor(readonly options: UcClientOptions) {}

  get userAgent(): string {
    return this.options.userAgent ?? 'Mozilla/5.0 (forum demo)';
  }

  /**
   * The POST body uc_api_post sends; `time` and `input` overrides let tests forge bad ones.
   * `unbound`: as the uc_client of Discuz! X3.4 and older sends it, without `m`, `a` and
   * `appid` in the encrypted input.
   */
  requestBody(module: string, action: string, args: Record<string, string | number>, override: { time?: number; agent?: string; key?: string; inputModule?: string; unbound?: boolean } = {}): string {
    const { appId } = this.options;
    const argString = Object.entries(args).map(([k, v]) => `${phpUrlencode(k)}=${phpUrlencode(String(v))}`).join('&');
    const data = override.unbound ? argString : `${argString}&m=${override.inputModule ?? module}&a=${action}&appid=${appId}`;
    const agent = override.agent ?? createHash('md5').update(this.userAgent).digest('hex');
    const time = override.time ?? Math.floor(Date.now() / 1000);
    const input = phpUrlencode(authcodeEncode(`${data}&agent=${agent}&time=${time}`, override.key ?? this.options.key));
    return `m=${module}&a=${action}&inajax=2&release=${this.options.release ?? '20170101'}&input=${input}&appid=${appId}`;
  }

  /** The raw answer text; {@link UcenterUnavailableError} when there is none (unreachable, past the deadline, not 200). */
  async call(module: string, action: string, args: Record<string, string | number> = {}, override: Parameters<UcClient['requestBody']>[3] = {}): Promise<string> {
    const timeoutMs = this.options.timeoutMs ?? UC_CALL_TIMEOUT_MS;
    // Built before the call: a fault of its own is not UCenter being unavailable.
    const body = this.requestBody(module, action, args, override);
    try {
      // One deadline for the answer and its body.
      const signal = AbortSignal.timeout(timeoutMs);
      const response = await fetch(`${this.options.api}/index.php?__times__=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': this.userAgent },
        body,
        signal,
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new UcenterUnavailableError(`it answered HTTP ${response.status}`);
      }
      return await response.text();
    } catch (error) {
      if (error instanceof UcenterUnavailableError) throw error;
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new UcenterUnavailableError(timedOut ? `no answer within ${timeoutMs} ms` : 'it could not be reached', { cause: error });
    }
  }

  /** uc_user_login → [uid or code, username, password, email, duplicate]. */
  async userLogin(username: string, password: string, isuid = 0, extra: Record<string, string | number> = {}): Promise<string[]> {
    const raw = await this.call('user', 'login', { username, password, isuid, checkques: 0, questionid: '', answer: '', ip: '', nolog: 0, ...extra });
    const parsed = ucUnserialize(raw);
    // A refusal is a plain text (e.g. "Invalid input"): in the uid slot, as uc_client's callers would see it.
    return Array.isArray(parsed) ? parsed.map(String) : [raw];
  }

  async getUser(username: string | number, isuid = 0): Promise<UcParsed> {
    const raw = await this.call('user', 'get_user', { username, isuid });
    return raw.startsWith('<?xml') ? ucUnserialize(raw) : raw;
  }

  /** uc_user_synlogin / uc_user_synlogout: the script tags to put in the page. */
  synlogin(uid: number): Promise<string> {
    return this.call('user', 'synlogin', { uid });
  }

  synlogout(): Promise<string> {
    return this.call('user', 'synlogout', {});
  }
}

/** What an application's api/uc.php does with `code`: decode with UC_KEY and parse the query. */
export function decodeNote(code: string, key: string): Record<string, string> | undefined {
  const decoded = authcodeDecode(code, key);
  return decoded ? Object.fromEntries(new URLSearchParams(decoded)) : undefined;
}
