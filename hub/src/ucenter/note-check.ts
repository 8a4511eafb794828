import { errorSummary } from '../delivery/delivery-worker.js';
import { serverFetch, type ServerFetch } from '../http/server-fetch.js';
import type { IntegrationStatus } from '../sync/integration-check.js';
import { noteAnswer } from './note-answer.js';
import { noteRequestUrl } from './notes.js';
import { noteUrl, type UcenterApp } from './ucenter-app.js';

export interface NoteCheck {
  appId: number;
  /** The note handler called (the internal URL when one is set). */
  url: string;
  status: IntegrationStatus;
  /** One line an administrator can act on (English: the CLI, logs). */
  detail: string;
  /** The same, as a translation key under `admin:check.` with its values (the console). */
  reason: string;
  values: Record<string, string | number>;
  httpStatus?: number;
}

const BODY_LIMIT = 200; // characters of the handler's answer read for the diagnosis

/**
 * UCenter's "communication test": a `test` note, as UCenter's console sends one, to the
 * application's note handler. A handler that decrypted it answers `1`. One that could not
 * (another UC_KEY, or a clock more than the code's 60 seconds ahead) answers `Invalid Request`,
 * or, as Discuz! X's api/uc.php (it checks the note's `time` before whether anything was read:
 * `time() - null` is always over an hour), `Authracation has expiried` (sic), its answer to a
 * note over an hour old by its clock too. Those two answers get a second test note without
 * authcode's expiry: answered 1, the key is right and the clock is ahead; refused again, the key
 * is wrong (or the clock more than an hour ahead). A clock behind takes every note.
 */
export async function checkUcenterApp(app: UcenterApp, timeoutMs: number, fetchImpl: ServerFetch = serverFetch): Promise<NoteCheck> {
  const url = noteUrl(app, true);
  const result = (status: IntegrationStatus, reason: string, detail: string, httpStatus?: number, values: Record<string, string | number> = {}): NoteCheck => ({
    appId: app.appId,
    url,
    status,
    detail,
    reason,
    values: { url, ...values },
    ...(httpStatus !== undefined ? { httpStatus } : {}),
  });
  const send = async (expirySeconds?: number): Promise<{ status: number; body: string; byteOrderMarks: number }> => {
    const response = await fetchImpl(noteRequestUrl(app, 'test', {}, { internal: true, ...(expirySeconds !== undefined ? { expirySeconds } : {}) }), { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    // Judged as the delivery worker judges a note's answer (byte-order marks before it dropped).
    const answer = noteAnswer(new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0))));
    return { status: response.status, body: answer.text.slice(0, BODY_LIMIT), byteOrderMarks: answer.byteOrderMarks };
  };
  let status: number;
  let body: string;
  let byteOrderMarks: number;
  try {
    ({ status, body, byteOrderMarks } = await send());
  } catch (thrown) {
    return result('unreachable', 'noteUnreachable', `The hub could not reach ${url}: ${errorSummary(thrown)}. Set the internal URL if the hub reaches the application at another address.`, undefined, { cause: errorSummary(thrown) });
  }
  const ok = (answer: { status: number; body: string }) => answer.status >= 200 && answer.status < 300 && answer.body === '1';
  if (status === 404) return result('wrong_url', 'noteNotFound', `${url} answered 404: check the application URL and the note file (api/uc.php).`, status);
  if (ok({ status, body })) return result('ok', 'noteOk', `The note handler decrypted the test note and answered 1${byteOrderMarks ? ` (after ${byteOrderMarks} UTF-8 byte-order mark${byteOrderMarks > 1 ? 's' : ''}: a PHP file of the application, often config/config_ucenter.php, was saved "UTF-8 with BOM"; the hub takes the answer, other UCenter servers may not)` : ''}.`, status);
  if (/invalid request|expir/i.test(body)) {
    // A test note is harmless to replay: this one carries no expiry, so only the key and the note's `time` count.
    const again = await send(0).catch(() => undefined);
    if (again && ok(again)) return result('rejected', 'noteClockAhead', "The note handler's clock is more than a minute ahead of the hub's, so it finds the hub's notes expired: set both by NTP.", status);
    return result('wrong_key', 'noteWrongKey', "The note handler could not use the code: its UC_KEY is not this application's key (Discuz! X answers a wrong key \"Authracation has expiried\"), or its clock is more than an hour ahead of the hub's.", status);
  }
  if (/access denied|forbidden/i.test(body) || body === '-2') return result('rejected', 'noteRefused', 'The note handler refused the test note (API_TEST or its access rules).', status);
  const shown = body.replace(/[^\x20-\x7e]/g, '?').slice(0, 60);
  return result('unexpected', 'noteUnexpected', `The note handler answered HTTP ${status}${shown ? ` "${shown}"` : ' with nothing'} instead of 1.`, status, { status, excerpt: shown });
}
