/**
 * What the fault tools record: every request of the load (flow, status, latency, and what is
 * wrong with the answer), every /readyz probe, the processes' exits, and the client_credentials
 * tokens answered 200 (which the audit log must hold). Shared by bench/tools/faults-under-load.ts
 * and bench/tools/failover-under-load.ts.
 */
import { randomUUID } from 'node:crypto';
import { TestBrowser } from '../../../hub/src/testing/browser.js';

const REQUEST_TIMEOUT_MS = 20_000;
const SLOW_MS = 5_000; // an answer slower than this during a fault is reported (the store's deadline is 2 s a call)

export interface Sample {
  at: number; // start, ms since epoch
  ms: number;
  flow: string;
  step: string;
  status: number; // 0: no answer (connection error or timeout)
  problems: string[];
  ok: boolean; // the flow's step did what it should
  body?: string; // the start of an answer that has a problem other than its speed
}

export interface HealthSample {
  at: number;
  target: string;
  status: number;
  body: string;
}

/** A server-to-server call's answer: its status (0: none), its JSON ({} when not JSON) and the request id it was sent with. */
export interface CallAnswer {
  status: number;
  json: Record<string, unknown>;
  requestId: string;
}

const PROTOCOL = /^\/(token(\/introspection)?|me)$/;
const STACK = /\n\s+at [^\n]+:\d+:\d+|at [\w.<>]+ \(file:|node:internal/;

export function stepOf(url: string): string {
  const { pathname } = new URL(url);
  return pathname.replace(/\/interaction\/[^/]+/, '/interaction/:uid').replace(/\/auth\/[^/]+$/, '/auth/:uid');
}

/** What is wrong with an answer, whatever the flow expected. */
export function problemsOf(url: string, status: number, headers: Headers, body: string, ms: number): string[] {
  const problems: string[] = [];
  const path = new URL(url).pathname;
  const type = headers.get('content-type') ?? '';
  if (status >= 500 && status !== 503) problems.push(`${status}`);
  if (STACK.test(body)) problems.push('stack trace');
  if (status === 503 && !headers.get('retry-after')) problems.push('503 without Retry-After');
  if (PROTOCOL.test(path) && status >= 400) {
    let json: { error?: unknown } | undefined;
    try {
      json = JSON.parse(body) as { error?: unknown };
    } catch {
      // not JSON
    }
    if (path === '/me' && status === 401 && headers.get('www-authenticate')) {
      // RFC 6750: the error may be in WWW-Authenticate
    } else if (!json || typeof json.error !== 'string') problems.push('not RFC 6749 JSON');
  } else if (status >= 500 && !type.includes('html') && !path.startsWith('/sso/') && path !== '/readyz') problems.push('no friendly page');
  if (ms > SLOW_MS) problems.push(`slow ${Math.round(ms)} ms`);
  return problems;
}

const lostProblem = (error: unknown) => (error instanceof Error && error.name === 'TimeoutError' ? 'no answer in 20 s' : 'connection error');

export class Recording {
  readonly samples: Sample[] = [];
  readonly health: HealthSample[] = [];
  /** Lines for the report's end (a process that exited, …). */
  readonly notes: string[] = [];
  /** Every client_credentials token a hub answered 200 for: its request id and when it was asked. The audit log must hold each. */
  readonly issued: { requestId: string; at: number }[] = [];

  record(flow: string, step: string, at: number, status: number, problems: string[], ok: boolean, body?: string): void {
    const kept = body !== undefined && problems.some((p) => !p.startsWith('slow')) ? { body: body.slice(0, 600) } : {};
    this.samples.push({ at, ms: Date.now() - at, flow, step, status, problems, ok, ...kept });
  }

  /** The last sample recorded, to add what the flow found wrong with it. */
  last(): Sample {
    return this.samples[this.samples.length - 1]!;
  }

  issuedToken(answer: { status: number; requestId: string }, at: number): void {
    if (answer.status === 200) this.issued.push({ requestId: answer.requestId, at });
  }

  /** A server-to-server call (JSON), recorded. */
  async call(flow: string, url: string, init: { method?: string; headers?: Record<string, string>; form?: Record<string, string> }): Promise<CallAnswer> {
    const at = Date.now();
    const step = `${init.method ?? 'GET'} ${stepOf(url)}`;
    // The hub keeps a caller's plain request id and puts it on the audit entries of the request.
    const requestId = `fault-${randomUUID()}`;
    try {
      const response = await fetch(url, {
        method: init.method ?? 'GET',
        headers: { accept: 'application/json', 'x-request-id': requestId, ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...init.headers },
        ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const body = await response.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        // left empty: problemsOf says so for a protocol endpoint
      }
      this.record(flow, step, at, response.status, problemsOf(url, response.status, response.headers, body, Date.now() - at), response.ok, body);
      return { status: response.status, json, requestId };
    } catch (error) {
      this.record(flow, step, at, 0, [lostProblem(error)], false);
      return { status: 0, json: {}, requestId };
    }
  }
}

/** A browser whose every exchange is recorded under its current flow. */
export class RecordingBrowser extends TestBrowser {
  constructor(private readonly recording: Recording, public flow: string) {
    super();
  }

  override async request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {}): Promise<Response> {
    const at = Date.now();
    try {
      const response = await super.request(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const body = await response.clone().text();
      const problems = problemsOf(url, response.status, response.headers, body, Date.now() - at);
      this.recording.record(this.flow, `${init.method ?? 'GET'} ${stepOf(url)}`, at, response.status, problems, response.status < 400, body);
      return response;
    } catch (error) {
      this.recording.record(this.flow, `${init.method ?? 'GET'} ${stepOf(url)}`, at, 0, [lostProblem(error)], false);
      throw error;
    }
  }
}
