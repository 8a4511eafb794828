/**
 * The steady mixed load of the fault tools and the run of their faults under it: two
 * client_credentials workers, three refresh chains, two portal sign-in/out workers, two kit
 * workers and /readyz of each process every 250 ms; 8 s of load first, then each fault in turn,
 * 10 s after it (its window) and a replay check of every chain, the hubs' heap after each.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { chainWorker } from './chains.js';
import { clientCredentialsFlow, kitFlow, signInAndOut } from './flows.js';
import { log, type Hub, type Rig } from './rig.js';

const CHAINS = 3;
/** How long after a fault its window lasts (and the load keeps being looked at). */
export const AFTER_MS = 10_000;

export interface LoadState {
  running: boolean;
  /** Between a data loss and the restore: refusals are expected. */
  wiped: boolean;
  /** Chains asked for a replay check. */
  replayRequests: Set<number>;
}

/** A fault: what it did, in lines for the report. */
export type Fault = () => Promise<string[]>;

/** A fault's time: from its start to its end (its window runs AFTER_MS longer). */
export interface Window {
  name: string;
  from: number;
  to: number;
  detail: string[];
}

export interface HeapReading {
  label: string;
  rss: (number | undefined)[];
}

export const loadState = (): LoadState => ({ running: true, wiped: false, replayRequests: new Set() });

async function worker(state: LoadState, body: (n: number) => Promise<void>): Promise<void> {
  for (let n = 0; state.running; n += 1) {
    try {
      await body(n);
    } catch {
      await sleep(300); // the failed step is recorded; start the flow again
    }
  }
}

async function pollHealth(rig: Rig, state: LoadState): Promise<void> {
  const targets = () => [
    ...rig.hubs.map((hub) => [`${hub.name} /readyz`, `http://127.0.0.1:${hub.port}/readyz`] as const),
    ['forum /readyz', `${rig.subsiteUrl}/readyz`] as const,
  ];
  while (state.running) {
    await Promise.all(targets().map(async ([target, url]) => {
      const at = Date.now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
        rig.recording.health.push({ at, target, status: response.status, body: (await response.text()).slice(0, 200) });
      } catch {
        rig.recording.health.push({ at, target, status: 0, body: 'no answer' });
      }
    }));
    await sleep(250);
  }
}

/** A line of a hub's /metrics, by a pattern whose first group is the number; undefined when its metrics do not answer. */
export async function metric(hub: Hub, pattern: RegExp): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${hub.metrics}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
    const match = pattern.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

const memory = (hub: Hub) => metric(hub, /^sso_process_nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)/m);

/** Runs `chosen` of `faults` one after the other under the load, then stops the load (waiting up to 30 s for its workers). */
export async function runUnderLoad(rig: Rig, state: LoadState, faults: Record<string, Fault>, chosen: string[]): Promise<{ windows: Window[]; memoryAt: HeapReading[] }> {
  const clientCredentials = clientCredentialsFlow(rig);
  const loops = [
    worker(state, clientCredentials),
    worker(state, clientCredentials),
    ...Array.from({ length: CHAINS }, (_, i) => chainWorker(rig, state, i)),
    worker(state, (n) => signInAndOut(rig, n)),
    worker(state, (n) => signInAndOut(rig, n + 1)),
    worker(state, (n) => kitFlow(rig, n)),
    worker(state, (n) => kitFlow(rig, n + 1)),
    pollHealth(rig, state),
  ];
  const windows: Window[] = [];
  const memoryAt: HeapReading[] = [];
  const memorySample = async (label: string) => memoryAt.push({ label, rss: await Promise.all(rig.hubs.map(memory)) });
  try {
    await sleep(8_000); // steady load first
    await memorySample('start');
    for (const name of chosen) {
      const from = Date.now();
      log(`fault ${name}…`);
      const detail = await faults[name]!();
      const to = Date.now();
      windows.push({ name, from, to, detail });
      await sleep(AFTER_MS);
      for (let i = 0; i < CHAINS; i += 1) state.replayRequests.add(i);
      await sleep(3_000);
      await memorySample(`after ${name}`);
    }
  } finally {
    state.running = false;
    await Promise.race([Promise.all(loops), sleep(30_000)]);
  }
  return { windows, memoryAt };
}
