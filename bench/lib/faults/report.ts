/**
 * The fault tools' report (Markdown): per fault, what each flow answered during it and in the
 * 10 s after, the slowest answer, what was wrong, how long until each flow first succeeded
 * again, the /readyz sequence of each process and the audit check (every client_credentials
 * token answered 200 is in the audit log); then the hubs' heap, totals and the error lines of
 * the processes' logs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AFTER_MS, metric, type HeapReading, type Window } from './load.js';
import type { Rig } from './rig.js';

/** Entries a hub still holds for a later write (`sso_audit_entries_waiting`); undefined when its metrics do not answer. */
const auditWaiting = (hub: Rig['hubs'][number]) => metric(hub, /^sso_audit_entries_waiting (\d+)/m);

/** Waits (at most 45 s) until no hub holds audit entries back. */
export async function auditQueuesDrained(rig: Rig): Promise<void> {
  // Entries a refused write kept are written within the retry's backoff (at most 30 s between tries).
  const auditDeadline = Date.now() + 45_000;
  while (Date.now() < auditDeadline && (await Promise.all(rig.hubs.map(auditWaiting))).some((n) => n === undefined || n > 0)) await sleep(500);
}

export interface FaultRun {
  rig: Rig;
  windows: Window[];
  memoryAt: HeapReading[];
  /** The log of tokens issued, as `redis-cli --raw ZRANGE <prefix>audit:tokens 0 -1` gives it. */
  auditTokens: string;
  /** Lines after the proxy's counts (read after everything before them). */
  more?: () => Promise<string[]>;
}

export async function faultReport({ rig, windows, memoryAt, auditTokens, more }: FaultRun): Promise<string> {
  const { samples, health, issued, notes } = rig.recording;
  const audited = new Set<string>();
  for (const raw of auditTokens.split('\n')) {
    const match = /"requestId":"(fault-[^"]+)"/.exec(raw);
    if (match && raw.includes('"client":"svc"')) audited.add(match[1]!);
  }
  /** The wipe of `redis-restart-empty` takes every entry before it with it (no persistence): not counted as missing. */
  const wipedAt = windows.find((w) => w.name === 'redis-restart-empty')?.from;
  function auditLine(window: Window): string {
    const mine = issued.filter((t) => t.at >= window.from - 500 && t.at < window.to + AFTER_MS);
    const missing = mine.filter((t) => !audited.has(t.requestId));
    const wiped = wipedAt !== undefined && window.from <= wipedAt ? ' (Redis was later restarted empty: entries before it are gone with it)' : '';
    return `  audit: ${mine.length} client_credentials tokens answered 200, ${mine.length - missing.length} in the audit log, ${missing.length} missing${wiped}`;
  }

  function table(window: Window): string {
    const lines = [`\n## ${window.name} (${((window.to - window.from) / 1000).toFixed(1)} s)`, ...window.detail.map((d) => `  ${d}`), auditLine(window)];
    const during = samples.filter((s) => s.at >= window.from - 500 && s.at < window.to + AFTER_MS);
    const flows = [...new Set(during.map((s) => s.flow))].sort();
    lines.push('| flow | answers during the fault and 10 s after | slowest (step → status) | what was wrong | first success after the fault | 5xx/no answer > 5 s after |', '| --- | --- | --- | --- | --- | --- |');
    for (const flow of flows) {
      const mine = during.filter((s) => s.flow === flow);
      const statuses = new Map<number, number>();
      for (const s of mine) statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1);
      const problems = new Map<string, number>();
      for (const s of mine) for (const p of s.problems) problems.set(p.startsWith('slow') ? 'slow > 5 s' : p, (problems.get(p.startsWith('slow') ? 'slow > 5 s' : p) ?? 0) + 1);
      const firstOk = samples.find((s) => s.flow === flow && s.at >= window.to && s.ok);
      const slowest = mine.reduce((a, b) => (b.ms > a.ms ? b : a));
      // Failed answers to requests started more than 5 s after the fault ended: not recovered.
      const late = mine.filter((s) => s.at > window.to + 5_000 && (s.status === 0 || s.status >= 500)).length;
      lines.push(`| ${flow} | ${[...statuses].sort((a, b) => a[0] - b[0]).map(([status, n]) => `${status || 'none'}×${n}`).join(' ')} | ${slowest.ms} ms (${slowest.step} → ${slowest.status || 'none'}) | ${[...problems].map(([p, n]) => `${p}×${n}`).join(', ') || '–'} | ${firstOk ? `${((firstOk.at - window.to) / 1000).toFixed(1)} s` : 'never'} | ${late} |`);
    }
    for (const s of during.filter((s) => s.body !== undefined).slice(0, 3)) lines.push(`  answer with a problem: ${s.flow}, ${s.step} → ${s.status}: ${s.body!.replace(/\s+/g, ' ').slice(0, 300)}`);
    const probes = health.filter((h) => h.at >= window.from - 500 && h.at < window.to + AFTER_MS);
    for (const target of [...new Set(probes.map((h) => h.target))]) {
      const seq: string[] = [];
      for (const h of probes.filter((p) => p.target === target)) {
        const label = h.status === 200 ? '200' : `${h.status || 'none'}${h.status === 503 ? ` ${(/"reasons":\[([^\]]*)\]/.exec(h.body)?.[1] ?? '').slice(0, 60)}` : ''}`;
        if (seq.at(-1)?.replace(/ ×\d+$/, '') === label) {
          const n = Number(/×(\d+)$/.exec(seq.at(-1)!)?.[1] ?? 1) + 1;
          seq[seq.length - 1] = `${label} ×${n}`;
        } else seq.push(label);
      }
      lines.push(`  ${target}: ${seq.join(' → ')}`);
    }
    return lines.join('\n');
  }

  return [
    `# faults under load (${new Date().toISOString()})`,
    ...windows.map(table),
    '\n## memory (heap used of each hub, MiB; read after each fault and its 13 s after)',
    ...memoryAt.map((m) => `  ${m.label}: ${m.rss.map((r) => (r ? (r / 2 ** 20).toFixed(0) : '?')).join(' / ')}`),
    '\n## everything run',
    `  ${samples.length} requests; ${samples.filter((s) => s.status >= 500 && s.status !== 503).length} 5xx other than 503; ${samples.filter((s) => s.problems.includes('stack trace')).length} stack traces; ${samples.filter((s) => s.problems.some((p) => p.startsWith('double-spent'))).length} double spends`,
    `  audit log: ${issued.length} client_credentials tokens answered 200, ${issued.filter((t) => audited.has(t.requestId)).length} of them in the log of tokens issued${wipedAt === undefined ? '' : ' (those before redis-restart-empty are gone with it)'}; every hub's audit queue empty at the end: ${(await Promise.all(rig.hubs.map(auditWaiting))).every((n) => n === 0)}`,
    `  proxy: ${JSON.stringify(rig.proxy.counts)}`,
    ...(more ? await more() : []),
    ...notes.map((n) => `  ${n}`),
    '\n## process logs: error lines',
    ...rig.hubs.flatMap((hub) => hub.child.output().split('\n').filter((l) => /"level":"(error|fatal)"|Error|\bat /.test(l)).slice(0, 15).map((l) => `  ${hub.name}: ${l.slice(0, 300)}`)),
    ...rig.subsite.output().split('\n').filter((l) => l.trim()).slice(0, 15).map((l) => `  forum: ${l.slice(0, 300)}`),
  ].join('\n');
}
