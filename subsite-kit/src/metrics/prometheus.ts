import type { KitInstruments } from './instruments.js';

/**
 * A prom-client `Registry` (or anything with the same two members): where the kit's metrics
 * are registered and read from. Typed by shape, so the kit's types need no prom-client.
 */
export interface MetricsRegistry {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** The `metrics` option of `createSubsiteKit`. */
export interface KitMetricsOptions {
  /**
   * The prom-client registry to register in: pass the site's own (`register` from prom-client)
   * to serve the kit's metrics with the site's. Default: a registry of the kit's own.
   */
  registry?: MetricsRegistry;
  /** Name prefix of every metric. Default: `'sso_kit_'`. */
  prefix?: string;
}

/** The names of {@link KitMetricsOptions}, held to the interface by the compiler, for refusing unknown ones. */
export const METRICS_OPTION_NAMES: readonly (keyof KitMetricsOptions)[] = Object.freeze(Object.keys({
  registry: true, prefix: true,
} satisfies { [K in keyof Required<KitMetricsOptions>]: true }) as (keyof KitMetricsOptions)[]);

export interface KitMetrics {
  readonly instruments: KitInstruments;
  readonly registry: MetricsRegistry;
}

type PromClient = typeof import('prom-client');

/**
 * Loads prom-client (an optional peer dependency: loaded only when metrics are asked for, so a
 * site that does not want them does not install it) and creates the kit's counters.
 */
export async function createKitMetrics(options: KitMetricsOptions): Promise<KitMetrics> {
  let client: PromClient;
  try {
    const loaded = (await import('prom-client')) as PromClient & { default?: PromClient };
    client = loaded.Counter ? loaded : loaded.default!;
  } catch (error) {
    throw new TypeError('subsite-kit: the metrics option needs prom-client, an optional peer dependency: npm install prom-client', { cause: error });
  }
  const prefix = options.prefix ?? 'sso_kit_';
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) throw new TypeError('subsite-kit: metrics.prefix must be a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)');
  const registry = (options.registry ?? new client.Registry()) as InstanceType<PromClient['Registry']>;
  const registers = [registry];
  const lazy = new client.Counter({
    name: `${prefix}lazy_verifications_total`,
    help: 'Silent sign-in checks (prompt=none) answered by the hub, by outcome: signed_in, the hub\'s answer (login_required, consent_required, ...) or failed.',
    labelNames: ['outcome'] as const,
    registers,
  });
  const sync = new client.Counter({
    name: `${prefix}sync_requests_total`,
    help: 'Sync beacons from the hub (synclogin, synclogout), by act and outcome (accepted, rejected, failed).',
    labelNames: ['act', 'outcome'] as const,
    registers,
  });
  const notices = new client.Counter({
    name: `${prefix}hub_notices_total`,
    help: 'Signed notices from the hub (userdelete, backchannel_logout), by kind and outcome (accepted, rejected, failed).',
    labelNames: ['kind', 'outcome'] as const,
    registers,
  });
  const storeErrors = new client.Counter({
    name: `${prefix}store_errors_total`,
    help: 'Store calls (sessions, indexes, used-once markers) that failed or passed their deadline, by operation and kind (error, timeout).',
    labelNames: ['operation', 'kind'] as const,
    registers,
  });
  return {
    registry,
    instruments: Object.freeze({
      lazyVerification: (outcome: string) => lazy.inc({ outcome }),
      syncRequest: (act: 'login' | 'logout', outcome: string) => sync.inc({ act, outcome }),
      hubNotice: (kind: 'userdelete' | 'backchannel_logout', outcome: string) => notices.inc({ kind, outcome }),
      storeError: (operation: string, kind: 'timeout' | 'error') => storeErrors.inc({ operation, kind }),
    }),
  };
}
