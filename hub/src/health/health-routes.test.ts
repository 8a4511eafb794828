/**
 * `/readyz` when this process itself is overloaded (an SRE review: 2,000 concurrent `GET /login`
 * made `/readyz` answer 503 "store: no answer in time" after 3.3 s with Redis idle, and a balancer
 * would take a saturated replica out, and under the same burst both). A check held up by the
 * process's own event loop is not blamed on the store: the last finished check answers for it
 * while recent, else 503 naming the overload. A store that is slow while the loop is idle is
 * still "store: no answer in time".
 */
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { Draining } from './draining.js';
import { healthRoutes, READYZ_ANSWER_MS, type HealthServices } from './health-routes.js';
import type { Readiness } from '../owned-state.js';

interface ReadyBody {
  ready: boolean;
  reasons: string[];
  busy?: string;
}

/** Holds the event loop busy in slices of `sliceMs` (a burst the hub is answering) until stopped. */
function saturate(sliceMs = 150): () => void {
  const timer = setInterval(() => {
    const end = performance.now() + sliceMs;
    while (performance.now() < end);
  }, 1);
  return () => clearInterval(timer);
}

const never = (): Promise<Readiness> => new Promise<Readiness>(() => undefined);

async function serve(services: Partial<HealthServices>): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.use(healthRoutes({ readiness: never, draining: new Draining(), ...services }));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function readyz(url: string): Promise<{ status: number; body: ReadyBody }> {
  const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(15_000) });
  return { status: response.status, body: (await response.json()) as ReadyBody };
}

describe('/readyz with this process overloaded (its event loop busy), the store fine', () => {
  test('the last finished check (ready, 1 s ago) answers: 200, and the answer says the process is overloaded, not the store', async () => {
    const told: string[] = [];
    const hub = await serve({
      lastReadiness: () => ({ readiness: { ready: true, reasons: [] }, at: Date.now() - 1_000 }),
      readyzOverloaded: (answer) => told.push(answer),
    });
    const stop = saturate();
    try {
      const ready = await readyz(hub.url);
      expect(ready.body.reasons).toEqual([]);
      expect(ready.status).toBe(200);
      expect(ready.body.busy).toMatch(/this process is overloaded \(event loop busy \d+ ms of the \d+ ms waited\)/);
      expect(told).toEqual(['last-check']);
    } finally {
      stop();
      await hub.close();
    }
  });

  test('the last finished check said not ready: its reasons, 503 (overload never hides a real problem)', async () => {
    const hub = await serve({ lastReadiness: () => ({ readiness: { ready: false, reasons: ['the store is unavailable'] }, at: Date.now() - 1_000 }) });
    const stop = saturate();
    try {
      const ready = await readyz(hub.url);
      expect(ready.status).toBe(503);
      expect(ready.body.reasons).toEqual(['the store is unavailable']);
    } finally {
      stop();
      await hub.close();
    }
  });

  test('no check finished recently (a loop held for long): 503 naming the overload, not "store: no answer in time"', async () => {
    const told: string[] = [];
    const hub = await serve({
      lastReadiness: () => ({ readiness: { ready: true, reasons: [] }, at: Date.now() - 60_000 }),
      readinessFreshForMs: 15_000,
      readyzOverloaded: (answer) => told.push(answer),
    });
    const stop = saturate();
    try {
      const ready = await readyz(hub.url);
      expect(ready.status).toBe(503);
      expect(ready.body.reasons).toHaveLength(1);
      expect(ready.body.reasons[0]).toMatch(/^this process is overloaded \(event loop busy \d+ ms of the \d+ ms waited\): no store check finished in the last 15 s$/);
      expect(told).toEqual(['not-ready']);
    } finally {
      stop();
      await hub.close();
    }
  });

  test('a store reply that arrived while the loop was held past READYZ_ANSWER_MS answers, rather than losing to the timer', async () => {
    // The check's answer comes by I/O (a child's output, as a Redis reply does) while the loop is
    // held 300 ms past the answer time: timers run before I/O in a turn of the loop, so the timer
    // alone took the check for unanswered.
    const hub = await serve({
      readiness: () =>
        new Promise<Readiness>((resolve) => {
          // The child answers while the loop is held (from 100 ms to READYZ_ANSWER_MS + 400 ms).
          const child = spawn(process.execPath, ['-e', 'setTimeout(() => process.stdout.write("ok"), 300)']);
          child.stdout.once('data', () => resolve({ ready: true, reasons: [] }));
          // Held from the loop's check phase (as a request's work is), so that the next turn
          // begins with its timers.
          const hold = (): void => {
            const end = performance.now() + READYZ_ANSWER_MS + 300;
            while (performance.now() < end);
          };
          setTimeout(() => setImmediate(hold), 100);
        }),
    });
    try {
      const ready = await readyz(hub.url);
      expect(ready.body).toEqual({ ready: true, reasons: [] });
      expect(ready.status).toBe(200);
    } finally {
      await hub.close();
    }
  });
});

test('with the loop idle, a check that does not finish is still the store\'s: 503 "store: no answer in time", even with a recent finished check', async () => {
  const hub = await serve({ lastReadiness: () => ({ readiness: { ready: true, reasons: [] }, at: Date.now() - 1_000 }) });
  try {
    const started = Date.now();
    const ready = await readyz(hub.url);
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ ready: false, reasons: ['store: no answer in time'] });
    expect(Date.now() - started).toBeLessThan(READYZ_ANSWER_MS + 500);
  } finally {
    await hub.close();
  }
});
