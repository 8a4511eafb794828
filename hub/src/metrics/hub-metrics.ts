import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Route labels are a fixed set: never a raw path (ids and tokens would explode the series). */
const ROUTES = [
  '/.well-known', '/auth', '/token', '/me', '/jwks', '/session/end', '/token/introspection', '/token/revocation',
  '/login', '/logout', '/portal', '/interaction', '/account', '/admin', '/oauth2.0', '/static', '/healthz', '/readyz', '/metrics',
  '/uc', '/ucenter', '/password',
] as const;

/** The routes longest first, each with its sub-path prefix (made once: this runs on every request). */
const ROUTES_LONGEST_FIRST = [...ROUTES].sort((a, b) => b.length - a.length).map((route) => [route, `${route}/`] as const);

/** The route label of a request path: the longest known prefix, `/` for the root, else `other`. */
export function routeOf(url: string | undefined): string {
  const path = (url ?? '/').split('?', 1)[0]!.toLowerCase();
  if (path === '/') return '/';
  for (const [route, below] of ROUTES_LONGEST_FIRST) if (path === route || path.startsWith(below)) return route;
  return 'other';
}

export type SignInOutcome = 'succeeded' | 'failed' | 'throttled';
export type DeliveryOutcome = 'delivered' | 'retry' | 'failed';

/**
 * The hub's Prometheus metrics, on a registry of its own (several hubs in one test process
 * never share counters). What the issue lists: requests by route and status with latency,
 * sign-ins, tokens by grant type, sync beacons planned, lazy verifications, the delivery
 * queue's depth and oldest pending age, deliveries by outcome, store command errors and latency.
 */
export class HubMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'sso_http_requests_total',
    help: 'HTTP requests answered, by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'sso_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly signIns = new Counter({
    name: 'sso_sign_ins_total',
    help: 'Sign-ins at the hub, by outcome (succeeded, failed, throttled).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly readyzOverloaded = new Counter({
    name: 'sso_readyz_overloaded_total',
    help: 'GET /readyz answers whose store check did not finish in time while this process was overloaded (its event loop busy), by answer: last-check (the last finished check answered for it), not-ready (none finished recently: 503 naming the overload).',
    labelNames: ['answer'] as const,
    registers: [this.registry],
  });

  readonly tokensIssued = new Counter({
    name: 'sso_tokens_issued_total',
    help: 'Token endpoint grants that issued tokens, by grant type.',
    labelNames: ['grant_type'] as const,
    registers: [this.registry],
  });

  readonly syncBeacons = new Counter({
    name: 'sso_sync_beacons_planned_total',
    help: 'Sync beacons put on sync pages, by action (login, logout).',
    labelNames: ['act'] as const,
    registers: [this.registry],
  });

  readonly lazyVerifications = new Counter({
    name: 'sso_lazy_verifications_total',
    help: 'Silent (prompt=none) authorization requests, by outcome (code, or the error answered).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly deliveries = new Counter({
    name: 'sso_deliveries_total',
    help: 'Userdelete and back-channel logout delivery attempts, by outcome (delivered, retry, failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly mails = new Counter({
    name: 'sso_mails_total',
    help: 'Mail handed to the SMTP server (or the development outbox), by template and outcome (sent, failed).',
    labelNames: ['template', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly storeDuration = new Histogram({
    name: 'sso_store_command_duration_seconds',
    help: 'Store (Redis) command latency, by command.',
    labelNames: ['command'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
    registers: [this.registry],
  });

  readonly storeErrors = new Counter({
    name: 'sso_store_command_errors_total',
    help: 'Store (Redis) commands that failed or timed out, by command.',
    labelNames: ['command'] as const,
    registers: [this.registry],
  });

  #queue: () => Promise<{ depth: number; oldestPendingSeconds: number }> = async () => ({ depth: 0, oldestPendingSeconds: 0 });

  constructor() {
    let last: Promise<{ depth: number; oldestPendingSeconds: number }> | undefined;
    // One store read per scrape, shared by both gauges; a failing store gives NaN (no value).
    const read = () => {
      last ??= this.#queue().finally(() => setImmediate(() => (last = undefined)));
      return last.catch(() => ({ depth: Number.NaN, oldestPendingSeconds: Number.NaN }));
    };
    new Gauge({
      name: 'sso_delivery_queue_depth',
      help: 'Deliveries pending (due now or waiting for a retry).',
      registers: [this.registry],
      async collect() {
        this.set((await read()).depth);
      },
    });
    new Gauge({
      name: 'sso_delivery_oldest_pending_seconds',
      help: 'How long the most overdue pending delivery has been due, in seconds (0 when none is overdue).',
      registers: [this.registry],
      async collect() {
        this.set((await read()).oldestPendingSeconds);
      },
    });
  }

  /**
   * Adds prom-client's process metrics (CPU, memory, event-loop lag, GC) under `sso_process_`.
   * Once per process (by `main`): they observe the process, not one hub built in it.
   */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry, prefix: 'sso_process_' });
  }

  /**
   * Password checks (argon2id) running, waiting for a turn, and turned away as busy
   * (ARGON2_CONCURRENCY, ARGON2_QUEUE_LIMIT), read from `turns` at scrape time.
   */
  watchPasswordChecks(turns: { readonly active: number; readonly waiting: number; readonly refused: number; readonly abandoned: number; readonly expired: number }): void {
    const gauges: [name: string, help: string, read: () => number][] = [
      ['sso_password_checks_running', 'Password checks (argon2id) running now; at most ARGON2_CONCURRENCY.', () => turns.active],
      ['sso_password_checks_waiting', 'Password checks waiting for a turn; past ARGON2_QUEUE_LIMIT a sign-in is answered busy (503).', () => turns.waiting],
    ];
    for (const [name, help, read] of gauges) {
      new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
    }
    new Counter({
      name: 'sso_password_checks_refused_total',
      help: 'Password checks turned away because ARGON2_QUEUE_LIMIT were waiting (the sign-in was answered busy, 503).',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(turns.refused);
      },
    });
    new Counter({
      name: 'sso_password_checks_abandoned_total',
      help: 'Password checks not run because the client of their request had gone (closed the connection) by their turn.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(turns.abandoned);
      },
    });
    new Counter({
      name: 'sso_password_checks_expired_total',
      help: 'Password checks not run because their turn came after ARGON2_QUEUE_WAIT_MS (the sign-in was answered busy, 503).',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(turns.expired);
      },
    });
  }

  /**
   * Audit entries not stored yet (lingering for company, or kept while the store refuses them) and
   * those given up (hub/src/audit/audit-log.ts), read from `audit` at scrape time. A waiting count
   * that keeps growing means the store refuses the log's writes.
   */
  watchAudit(audit: { readonly waiting: number; readonly givenUp: number }): void {
    new Gauge({
      name: 'sso_audit_entries_waiting',
      help: 'Audit entries recorded and not stored yet: lingering for a batch, or kept while the store refuses writes.',
      registers: [this.registry],
      collect() {
        this.set(audit.waiting);
      },
    });
    new Counter({
      name: 'sso_audit_entries_given_up_total',
      help: 'Audit entries given up: more were waiting than the log keeps while the store refused them, or the store still refused them at a stop.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(audit.givenUp);
      },
    });
  }

  /**
   * `sso_redis_eviction_policy_safe`: 1 when Redis runs with maxmemory-policy noeviction (or the
   * embedded store), 0 when it may delete the hub's keys when memory runs out, no value when it
   * could not be read. Read from `read` at scrape time (the store check keeps it current).
   */
  watchEvictionPolicy(read: () => boolean | undefined): void {
    new Gauge({
      name: 'sso_redis_eviction_policy_safe',
      help: 'Whether Redis keeps every key when memory runs out (maxmemory-policy noeviction): 1 yes, 0 it may delete users, clients and counters.',
      registers: [this.registry],
      collect() {
        const safe = read();
        if (safe === undefined) this.reset();
        else this.set(safe ? 1 : 0);
      },
    });
  }

  /** Where the queue gauges read from, at scrape time. */
  watchQueue(read: () => Promise<{ depth: number; oldestPendingSeconds: number }>): void {
    this.#queue = read;
  }

  signIn(outcome: SignInOutcome): void {
    this.signIns.inc({ outcome });
  }

  /** The Prometheus text exposition and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
