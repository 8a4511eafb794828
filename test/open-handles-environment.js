/**
 * jest's node environment, plus a report of what keeps a jest worker alive once every test has run.
 *
 * jest asks each worker process to end and gives it 500 ms; a worker still running then is killed
 * and jest prints "A worker process has failed to exit gracefully". Something a test started and
 * did not stop (a socket, a server, a child process, a timer) keeps it alive, in any of the
 * files that worker ran. `--detectOpenHandles` finds such things only in band, one file at a time,
 * and slowly. This environment instead watches for the worker's end message: if the worker is still
 * alive 250 ms after it, it writes what is still open (and the files that worker ran) to
 * `$JEST_OPEN_HANDLES_DIR/worker-<pid>.txt` (default `<tmp>/jest-open-handles`). `.ci/run` prints
 * those files with its warning. Nothing is written when the worker exits as it should.
 */
import { TestEnvironment } from 'jest-environment-node';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** jest-worker's message asking a child to end (`CHILD_MESSAGE_END` in jest-worker). */
const CHILD_MESSAGE_END = 2;
const files = [];

/**
 * Timers that keep a process alive (ref'd, not yet fired or cleared), with where they were made.
 * Only those made by tests' code (the environment's `setTimeout`/`setInterval`) are known here.
 */
const timers = new Map();
const realSetTimeout = globalThis.setTimeout;
const realSetInterval = globalThis.setInterval;
const realClearTimeout = globalThis.clearTimeout;
const realClearInterval = globalThis.clearInterval;
function made(kind, ms) {
  // The stack is captured here and formatted only if it is ever reported.
  return { kind, ms, file: files.at(-1), where: new Error() };
}
function wrapSetTimeout(callback, ms, ...args) {
  const record = made('setTimeout', ms);
  const timer = realSetTimeout(function fired(...given) {
    timers.delete(timer);
    return typeof callback === 'function' ? callback.apply(this, given) : undefined;
  }, ms, ...args);
  timers.set(timer, record);
  return timer;
}
Object.defineProperties(wrapSetTimeout, Object.getOwnPropertyDescriptors(realSetTimeout));
function wrapSetInterval(callback, ms, ...args) {
  const timer = realSetInterval(callback, ms, ...args);
  timers.set(timer, made('setInterval', ms));
  return timer;
}
Object.defineProperties(wrapSetInterval, Object.getOwnPropertyDescriptors(realSetInterval));
function wrapClearTimeout(timer) {
  if (timer && typeof timer === 'object') timers.delete(timer);
  return realClearTimeout(timer);
}
function wrapClearInterval(timer) {
  if (timer && typeof timer === 'object') timers.delete(timer);
  return realClearInterval(timer);
}

function describeHandle(handle) {
  const name = handle?.constructor?.name ?? typeof handle;
  try {
    if (name === 'Socket' || name === 'TLSSocket') {
      if (handle === process.stdin || handle === process.stdout || handle === process.stderr) return undefined;
      if (handle._type === 'pipe' || handle.remotePort === undefined) return `${name} (pipe${handle._handle?.fd >= 0 ? ` fd ${handle._handle.fd}` : ''}${handle.readable ? ', readable' : ''})`;
      return `${name} ${handle.localAddress}:${handle.localPort} -> ${handle.remoteAddress}:${handle.remotePort}`;
    }
    if (name === 'Server') {
      const address = handle.address();
      return `Server listening on ${typeof address === 'string' ? address : `${address?.address}:${address?.port}`}`;
    }
    if (name === 'ChildProcess') return `ChildProcess pid ${handle.pid}: ${handle.spawnargs?.join(' ')}`;
  } catch (error) {
    return `${name} (${error instanceof Error ? error.message : String(error)})`;
  }
  return name;
}

function report() {
  const late = Math.round(performance.now() - asked.at);
  const lines = [`jest worker ${process.pid} still alive ${late} ms after it was asked to end`, `memory when asked: ${JSON.stringify(asked.memory)}`, '', 'open resources (process.getActiveResourcesInfo):'];
  const kinds = new Map();
  for (const kind of process.getActiveResourcesInfo()) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  for (const [kind, count] of kinds) lines.push(`  ${kind} × ${count}`);
  lines.push('', 'handles:');
  for (const handle of process._getActiveHandles()) {
    const described = describeHandle(handle);
    if (described) lines.push(`  ${described}`);
  }
  lines.push('', 'timers made by tests, still due and keeping the process alive:');
  for (const [timer, { kind, ms, file, where }] of timers) {
    if (timer._destroyed || (typeof timer.hasRef === 'function' && !timer.hasRef())) continue;
    const stack = (where.stack ?? '').split('\n').slice(3, 10).join('\n');
    lines.push(`  ${kind}(…, ${ms}) in ${file}`, stack.replace(/^/gm, '      '));
  }
  lines.push('', 'test files this worker ran, last one last:', ...files.map((file) => `  ${file}`));
  const dir = process.env.JEST_OPEN_HANDLES_DIR ?? join(tmpdir(), 'jest-open-handles');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `worker-${process.pid}.txt`), `${lines.join('\n')}\n`);
}

let watching = false;
let asked;
function watchForEnd() {
  if (watching || typeof process.send !== 'function') return; // in band: jest's own process, not a worker
  watching = true;
  const onMessage = (message) => {
    if (!Array.isArray(message) || message[0] !== CHILD_MESSAGE_END) return;
    // A 'message' listener keeps the IPC channel (and so the worker) alive: let go of it at once.
    process.removeListener('message', onMessage);
    asked = { at: performance.now(), memory: process.memoryUsage() };
    realSetTimeout(report, 250).unref();
  };
  process.on('message', onMessage);
}

const WRAPPERS = { setTimeout: wrapSetTimeout, setInterval: wrapSetInterval, clearTimeout: wrapClearTimeout, clearInterval: wrapClearInterval };
const REAL = { setTimeout: realSetTimeout, setInterval: realSetInterval, clearTimeout: realClearTimeout, clearInterval: realClearInterval };

export default class OpenHandlesEnvironment extends TestEnvironment {
  constructor(config, context) {
    // jest's environment copies the process's timers into the test's global, and its legacy fake
    // timers keep what it copied as the real ones: the wrappers are in place while it copies.
    Object.assign(globalThis, WRAPPERS);
    try {
      super(config, context);
    } finally {
      Object.assign(globalThis, REAL);
    }
    files.push(context.testPath);
    watchForEnd();
  }

  async teardown() {
    // Only timers that can still keep the worker alive stay listed (one cleared some other way,
    // by id or through node:timers, would otherwise stay with its file's objects).
    for (const timer of timers.keys()) {
      if (timer._destroyed || (typeof timer.hasRef === 'function' && !timer.hasRef())) timers.delete(timer);
    }
    await super.teardown();
  }
}
