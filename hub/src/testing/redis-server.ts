import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { freePort } from './hub-process.js';

/**
 * A redis-server on 127.0.0.1:`port` answers PING (within half a second): PONG, or with
 * `passwordAsked` also NOAUTH (a server started with `--requirepass` is up too).
 */
export async function answersPing(port: number, options: { passwordAsked?: boolean } = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done((options.passwordAsked ? /^(\+PONG|-NOAUTH)/ : /^\+PONG/).test(data.toString())));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

export interface OwnRedis {
  url: string;
  process: ChildProcess;
  /** SIGSTOP: the server keeps its connections but answers nothing (a stalled store). */
  pause(): void;
  resume(): void;
  /** Stops the server (by its PID) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * A redis-server of the test's own, on a free port, with nothing on disk: for tests that stop
 * or stall their store without touching the shared Redis.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const { port, child, exited } = await launch((free) => ['--port', String(free), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], undefined, 'redis-server');
  return { url: `redis://127.0.0.1:${port}`, ...controlled(child, exited) };
}

/** A server process of the test's: paused and resumed by signal, stopped (once) by its PID. */
function controlled(child: ChildProcess, exited: Promise<unknown>): Omit<OwnRedis, 'url'> {
  let stopped = false;
  return {
    process: child,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      if (stopped) return;
      stopped = true;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Redis Cluster and Sentinel of a test's own: real servers from Debian's redis-server, on free
// ports, with their config files in one temporary directory that stop() removes.

export interface Spawned {
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
}

function spawnRedis(port: number, args: string[], cwd: string | undefined): Spawned {
  const child = spawn('redis-server', args, { stdio: 'ignore', cwd });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return { port, child, exited };
}

async function waitForPing(port: number, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (await answersPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${what} did not start on port ${port}`);
}

/** How many ports `launch` tries before it gives up. */
const LAUNCH_TRIES = 5;

/**
 * Starts a redis-server (or sentinel) on a free port and makes sure the port answers for it.
 * A port found free can be taken by a test in the other jest worker before this server binds
 * it; this server then exits, and the port answers for the other test's (a CI run once set a
 * cluster config epoch on another test's node). The answering server's process id must be
 * this child's, else it is stopped and another port is tried.
 */
export async function launch(argsFor: (port: number) => string[] | Promise<string[]>, cwd: string | undefined, what: string, pickPort: () => Promise<number> = freePort): Promise<Spawned> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await pickPort();
    const spawned = spawnRedis(port, await argsFor(port), cwd);
    let failure: unknown;
    try {
      await waitForPing(port, what);
      const pid = /process_id:(\d+)/.exec(await command(port, ['INFO', 'server']))?.[1];
      if (pid !== undefined && pid === String(spawned.child.pid)) return spawned;
      failure = new Error(`${what}: port ${port} answered for another process (${pid ?? 'unknown'}), not ${String(spawned.child.pid)}`);
    } catch (error) {
      failure = error;
    }
    if (spawned.child.exitCode === null && spawned.child.signalCode === null) spawned.child.kill('SIGKILL');
    await spawned.exited;
    if (attempt >= LAUNCH_TRIES) throw failure;
  }
}

/** One command on a short-lived connection (the helpers need a handful, not a client); `password`: sent with AUTH first. */
async function command(port: number, args: string[], password?: string): Promise<string> {
  const encode = (parts: string[]) => `*${parts.length}\r\n${parts.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = '';
    let authenticating = password !== undefined;
    socket.setTimeout(2_000, () => {
      socket.destroy();
      reject(new Error(`no answer from port ${port} to ${args[0]}`));
    });
    socket.once('error', reject);
    socket.on('data', (data) => {
      reply += data.toString();
      if (!complete(reply)) return;
      if (authenticating && !reply.startsWith('-')) {
        authenticating = false;
        reply = '';
        socket.write(encode(args));
        return;
      }
      socket.destroy();
      if (reply.startsWith('-')) reject(new Error(`${authenticating ? 'AUTH' : args.join(' ')} on port ${port}: ${reply.trim()}`));
      else resolve(reply);
    });
    socket.connect(port, '127.0.0.1', () => socket.write(password !== undefined ? encode(['AUTH', password]) : encode(args)));
  });
}

/** Whether a RESP2 reply is complete (simple strings, errors, integers, bulk strings and flat arrays). */
function complete(reply: string): boolean {
  const kind = reply[0];
  const lineEnd = reply.indexOf('\r\n');
  if (lineEnd < 0) return false;
  if (kind === '+' || kind === '-' || kind === ':') return true;
  if (kind === '$') {
    const length = Number(reply.slice(1, lineEnd));
    return length < 0 || Buffer.byteLength(reply) >= lineEnd + 2 + length + 2;
  }
  if (kind === '*') {
    let count = Number(reply.slice(1, lineEnd));
    let at = lineEnd + 2;
    while (count > 0) {
      const end = reply.indexOf('\r\n', at);
      if (end < 0) return false;
      if (reply[at] === '$') {
        const length = Number(reply.slice(at + 1, end));
        at = end + 2 + (length < 0 ? 0 : length + 2);
        if (reply.length < at) return false;
      } else if (reply[at] === '*') {
        // a nested array: count its elements as ours
        count += Number(reply.slice(at + 1, end));
        at = end + 2;
      } else {
        at = end + 2;
      }
      count -= 1;
    }
    return true;
  }
  return true;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function stopAll(servers: Spawned[], dir: string): Promise<void> {
  for (const { child } of servers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.exited));
  await rm(dir, { recursive: true, force: true });
}

// Nothing on disk; a replica syncs at once (the default waits 5 s for more replicas to share one transfer).
const NO_DISK = ['--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0'];

export interface OwnRedisCluster {
  /** `host:port` of every master, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  /** The same as `{ host, port }` objects. */
  rootNodes: { host: string; port: number }[];
  /** Stops every node by PID and removes the temporary directory. */
  stop(): Promise<void>;
}

/**
 * A 3-master Redis Cluster (no replicas), set up as `redis-cli --cluster create` would (slots
 * split in three, distinct config epochs, CLUSTER MEET) but without its one-second polls.
 */
export async function startOwnRedisCluster(options: { password?: string; tls?: ClusterTls } = {}): Promise<OwnRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'sso-cluster-'));
  const servers: Spawned[] = [];
  const ports: number[] = [];
  // With TLS each node has a TLS port too (clients and the cluster bus speak TLS; the set-up
  // below speaks plain text on the other port) and the cluster answers clients with TLS ports.
  const tlsPorts: number[] = [];
  try {
    for (let i = 0; i < 3; i += 1) {
      let tlsPort = 0;
      const node = await launch(async (port) => {
        const tls = options.tls ? ['--tls-port', String((tlsPort = await freePort())), '--tls-cert-file', options.tls.cert, '--tls-key-file', options.tls.key, '--tls-ca-cert-file', options.tls.ca, '--tls-auth-clients', options.tls.authClients ? 'yes' : 'no', '--tls-cluster', 'yes', '--tls-replication', 'yes'] : [];
        return ['--port', String(port), '--bind', '127.0.0.1', ...NO_DISK, '--cluster-enabled', 'yes',
          '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', ...tls];
      }, dir, 'cluster node');
      servers.push(node);
      ports.push(node.port);
      tlsPorts.push(tlsPort);
    }
    const ranges = [[0, 5460], [5461, 10922], [10923, 16383]] as const;
    await Promise.all(ports.map(async (port, i) => {
      await command(port, ['CLUSTER', 'ADDSLOTSRANGE', String(ranges[i]![0]), String(ranges[i]![1])]);
      await command(port, ['CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1)]);
    }));
    // The bus listens at the clients' port + 10000: the TLS port's with TLS.
    const meetPorts = options.tls ? tlsPorts : ports;
    for (const port of meetPorts.slice(1)) await command(ports[0]!, ['CLUSTER', 'MEET', '127.0.0.1', String(port)]);
    await until(async () => {
      const infos = await Promise.all(ports.map((port) => command(port, ['CLUSTER', 'INFO'])));
      return infos.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:3'));
    }, 20_000, 'the cluster to agree on its slots');
    // `requirepass` once formed (the set-up above speaks without one); the cluster bus needs none.
    if (options.password) for (const port of ports) await command(port, ['CONFIG', 'SET', 'masterauth', options.password, 'requirepass', options.password]);
  } catch (error) {
    await stopAll(servers, dir);
    throw error;
  }
  let stopped: Promise<void> | undefined;
  const clientPorts = options.tls ? tlsPorts : ports;
  return {
    nodes: clientPorts.map((port) => `127.0.0.1:${port}`),
    rootNodes: clientPorts.map((port) => ({ host: '127.0.0.1', port })),
    stop: () => (stopped ??= stopAll(servers, dir)),
  };
}

/** PEM files of a TLS cluster: the server's certificate and key, and the CA that signed it. */
export interface ClusterTls {
  cert: string;
  key: string;
  ca: string;
  /** `tls-auth-clients yes`: clients must show a certificate signed by `ca` (mutual TLS). */
  authClients?: boolean;
}

/**
 * A redis-server of the test's own speaking TLS on `url` (`rediss://`), with a plain-text port
 * for nothing but the start-up check. `authClients`: it wants a client certificate.
 */
export async function startOwnTlsRedis(tls: ClusterTls): Promise<OwnRedis & { adminPort: number }> {
  let tlsPort = 0;
  const { port: adminPort, child, exited } = await launch(async (port) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--tls-port', String((tlsPort = await freePort())), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca,
    '--tls-auth-clients', tls.authClients ? 'yes' : 'no'], undefined, 'TLS redis-server');
  return {
    url: `rediss://127.0.0.1:${tlsPort}`,
    /** The plain-text port, for the test's own commands (CONFIG SET, CLIENT KILL). */
    adminPort,
    ...controlled(child, exited),
  };
}

export interface OwnRedisSentinel {
  /** The name the sentinels monitor the primary under (REDIS_SENTINEL_NAME). */
  name: string;
  /** `host:port` of every sentinel, as REDIS_SENTINELS takes them. */
  sentinels: string[];
  sentinelRootNodes: { host: string; port: number }[];
  /** Port of the server that is the primary right now (asks a sentinel); its TLS port with `tls`. */
  primaryPort(): Promise<number>;
  /**
   * Shortens the sentinels' down-after to SENTINEL_DOWN_AFTER_MS (until then a primary that does
   * not answer is failed over only after a minute: no failover a test did not ask for), and waits
   * until the sentinels know each other and the replica, so a failover can be agreed.
   */
  readyForFailover(): Promise<void>;
  /** SIGKILL of the current primary, by its PID: a crash, with no chance to hand over. */
  killPrimary(): Promise<number>;
  /** SIGSTOP of the current primary: it keeps its connections and answers nothing (a frozen host); resumeReplica() resumes both data servers. */
  pausePrimary(): Promise<number>;
  /** SIGSTOP / SIGCONT of the replica (the data server that is not the primary): it acknowledges nothing meanwhile. */
  pauseReplica(): Promise<void>;
  resumeReplica(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * How long a sentinel waits before it calls an unanswering primary down, in milliseconds, once a
 * test has asked for failovers (readyForFailover).
 */
export const SENTINEL_DOWN_AFTER_MS = 1_000;
/**
 * The sentinels' down-after until then: on a loaded CI machine a primary can take over a second
 * to answer a PING (or is paused by the test on purpose), and one second failed it over under
 * tests that wanted no failover (the kit's Sentinel /readyz tests, CI run of d2ed329's parent).
 */
const NO_FAILOVER_DOWN_AFTER_MS = 60_000;

/**
 * A primary, one replica and three sentinels (quorum 2), all `redis-server` (`--sentinel`),
 * with short detection times so a failover takes seconds, not the default half minute.
 */
export async function startOwnRedisSentinel(name = 'sso-test', options: { password?: string; sentinelPassword?: string; sentinelUser?: { username: string; password: string }; tls?: ClusterTls } = {}): Promise<OwnRedisSentinel> {
  const dir = await mkdtemp(join(tmpdir(), 'sso-sentinel-'));
  let primaryPort = 0;
  let replicaPort = 0;
  const sentinelPorts: number[] = [];
  const servers: Spawned[] = [];
  const byPort = new Map<number, Spawned>();
  // With TLS every server has a TLS port too, which the sentinels announce and name (replication,
  // the sentinels' links and the clients speak TLS); the set-up below speaks plain text on the other.
  const tlsPortOf = new Map<number, number>();
  const plainPortOf = new Map<number, number>();
  const track = (spawned: Spawned, tlsPort = 0) => {
    servers.push(spawned);
    byPort.set(spawned.port, spawned);
    if (tlsPort) {
      byPort.set(tlsPort, spawned);
      tlsPortOf.set(spawned.port, tlsPort);
      plainPortOf.set(tlsPort, spawned.port);
    }
  };
  const tls = options.tls;
  const tlsArgs = async (take: (port: number) => void) => {
    if (!tls) return [];
    const port = await freePort();
    take(port);
    return ['--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', tls.authClients ? 'yes' : 'no', '--tls-replication', 'yes'];
  };
  /** The port others are told to reach a server at: its TLS port with TLS. */
  const announced = (plain: number) => tlsPortOf.get(plain) ?? plain;
  try {
    let primaryTls = 0;
    const primary = await launch(async (port) => ['--port', String(port), '--bind', '127.0.0.1', ...NO_DISK, ...(await tlsArgs((p) => (primaryTls = p)))], dir, 'primary');
    track(primary, primaryTls);
    primaryPort = primary.port;
    let replicaTls = 0;
    const replica = await launch(async (port) => ['--port', String(port), '--bind', '127.0.0.1', ...NO_DISK, ...(await tlsArgs((p) => (replicaTls = p))), '--replicaof', '127.0.0.1', String(announced(primaryPort))], dir, 'replica');
    track(replica, replicaTls);
    replicaPort = replica.port;
    await until(async () => (await command(replicaPort, ['INFO', 'replication'])).includes('master_link_status:up'), 20_000, 'the replica to sync');
    for (let i = 0; i < 3; i += 1) {
      let sentinelTls = 0;
      const sentinel = await launch(async (port) => {
        const file = join(dir, `sentinel-${port}.conf`);
        const tlsLines = tls
          ? [`tls-port ${(sentinelTls = await freePort())}`, `tls-cert-file ${tls.cert}`, `tls-key-file ${tls.key}`, `tls-ca-cert-file ${tls.ca}`, `tls-auth-clients ${tls.authClients ? 'yes' : 'no'}`, 'tls-replication yes']
          : [];
        await writeFile(file, [
          `port ${port}`,
          'bind 127.0.0.1',
          ...tlsLines,
          `sentinel monitor ${name} 127.0.0.1 ${announced(primaryPort)} 2`,
          `sentinel down-after-milliseconds ${name} ${NO_FAILOVER_DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${name} 3000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'));
        return [file, '--sentinel'];
      }, dir, 'sentinel');
      track(sentinel, sentinelTls);
      sentinelPorts.push(sentinel.port);
    }
    await until(async () => {
      const replies = await Promise.all(sentinelPorts.map((port) => command(port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name])));
      return replies.every((reply) => reply.includes(String(announced(primaryPort))));
    }, 20_000, 'the sentinels to monitor the primary');
    // Passwords once it runs (the set-up above speaks without them): the data servers' for the
    // sentinels (auth-pass) and each other (masterauth), then the sentinels' own (an ACL password
    // on their default user; sentinel-pass is what they give each other).
    if (options.password) {
      for (const port of [primaryPort, replicaPort]) await command(port, ['CONFIG', 'SET', 'masterauth', options.password]);
      for (const port of sentinelPorts) await command(port, ['SENTINEL', 'SET', name, 'auth-pass', options.password]);
      for (const port of [primaryPort, replicaPort]) await command(port, ['CONFIG', 'SET', 'requirepass', options.password]);
    }
    if (options.sentinelPassword) {
      for (const port of sentinelPorts) await command(port, ['SENTINEL', 'CONFIG', 'SET', 'sentinel-pass', options.sentinelPassword]);
      for (const port of sentinelPorts) await command(port, ['ACL', 'SETUSER', 'default', 'on', 'resetpass', `>${options.sentinelPassword}`]);
    }
    // An ACL user of the sentinels' own besides `default` (REDIS_SENTINEL_USERNAME); the sentinels
    // keep speaking to each other as `default`.
    if (options.sentinelUser) {
      const { username, password } = options.sentinelUser;
      for (const port of sentinelPorts) await command(port, ['ACL', 'SETUSER', username, 'on', `>${password}`, '+@all', 'allchannels'], options.sentinelPassword);
    }
  } catch (error) {
    await stopAll(servers, dir);
    throw error;
  }
  const primaryPortNow = async () => {
    for (const port of sentinelPorts) {
      const reply = await command(port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name], options.sentinelPassword).catch(() => '');
      const found = /\$\d+\r\n(\d+)\r\n$/.exec(reply);
      if (found) return Number(found[1]);
    }
    throw new Error('no sentinel names a primary');
  };
  let stopped: Promise<void> | undefined;
  return {
    name,
    sentinels: sentinelPorts.map((port) => `127.0.0.1:${announced(port)}`),
    sentinelRootNodes: sentinelPorts.map((port) => ({ host: '127.0.0.1', port: announced(port) })),
    primaryPort: primaryPortNow,
    async readyForFailover() {
      for (const port of sentinelPorts) await command(port, ['SENTINEL', 'SET', name, 'down-after-milliseconds', String(SENTINEL_DOWN_AFTER_MS)], options.sentinelPassword);
      await until(async () => {
        const states = await Promise.all(sentinelPorts.map((port) => command(port, ['SENTINEL', 'MASTER', name], options.sentinelPassword)));
        // The reply is a flat field/value list: each sentinel must see the other two and the replica.
        return states.every((state) => /num-other-sentinels\r\n\$1\r\n2\r\n/.test(state) && /num-slaves\r\n\$1\r\n1\r\n/.test(state));
      }, 20_000, 'the sentinels to find each other and the replica');
    },
    async killPrimary() {
      const port = await primaryPortNow();
      const server = byPort.get(port)!;
      server.child.kill('SIGKILL');
      await server.exited;
      return port;
    },
    async pausePrimary() {
      const port = await primaryPortNow();
      byPort.get(port)!.child.kill('SIGSTOP');
      return port;
    },
    async pauseReplica() {
      const primary = await primaryPortNow();
      const plain = plainPortOf.get(primary) ?? primary;
      byPort.get(plain === primaryPort ? replicaPort : primaryPort)!.child.kill('SIGSTOP');
    },
    async resumeReplica() {
      for (const port of [primaryPort, replicaPort]) byPort.get(port)!.child.kill('SIGCONT');
    },
    stop: () => (stopped ??= stopAll(servers.map((s) => (s.child.kill('SIGCONT'), s)), dir)),
  };
}

export interface OwnRedisClusterWithReplicas extends OwnRedisCluster {
  /** Each master's port with its replica's port, in slot order (the first serves slots 0-5460). */
  shards: { master: number; replica: number }[];
  /** The process of the server on `port` (to SIGSTOP, SIGCONT or SIGKILL it). */
  processOf(port: number): ChildProcess;
  /** One command to the server on `port`, its RESP2 reply as text. */
  command(port: number, args: string[]): Promise<string>;
  /** Waits until the server on `port` calls itself a master (ROLE). */
  waitForMaster(port: number, timeoutMs?: number): Promise<void>;
  /**
   * Waits until the master on `port` has its replica acknowledging every write so far
   * (replication is asynchronous: a replica promoted before it lacks the last writes).
   */
  waitForReplicated(port: number, timeoutMs?: number): Promise<void>;
}

/**
 * A 3-master Redis Cluster with one replica per master (as `redis-cli --cluster create …
 * --cluster-replicas 1` builds it, without its one-second polls), nothing on disk, every
 * replica in sync before it returns. For failover tests: `CLUSTER FAILOVER TAKEOVER` on a
 * replica promotes it at once, without the other masters' vote.
 */
export async function startOwnRedisClusterWithReplicas(): Promise<OwnRedisClusterWithReplicas> {
  const dir = await mkdtemp(join(tmpdir(), 'sso-cluster-replicas-'));
  const servers: Spawned[] = [];
  const byPort = new Map<number, Spawned>();
  const shards: { master: number; replica: number }[] = [];
  try {
    for (let i = 0; i < 6; i += 1) {
      const node = await launch((port) => ['--port', String(port), '--bind', '127.0.0.1', ...NO_DISK, '--cluster-enabled', 'yes',
        '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000'], dir, 'cluster node');
      servers.push(node);
      byPort.set(node.port, node);
    }
    const ports = servers.map((s) => s.port);
    const masters = ports.slice(0, 3);
    const ranges = [[0, 5460], [5461, 10922], [10923, 16383]] as const;
    await Promise.all(masters.map(async (port, i) => {
      await command(port, ['CLUSTER', 'ADDSLOTSRANGE', String(ranges[i]![0]), String(ranges[i]![1])]);
      await command(port, ['CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1)]);
    }));
    for (const port of ports.slice(1)) await command(ports[0]!, ['CLUSTER', 'MEET', '127.0.0.1', String(port)]);
    await until(async () => (await Promise.all(ports.map((port) => command(port, ['CLUSTER', 'INFO'])))).every((info) => info.includes('cluster_known_nodes:6')), 20_000, 'the cluster nodes to meet');
    for (let i = 0; i < 3; i += 1) {
      const masterId = (await command(masters[i]!, ['CLUSTER', 'MYID'])).split('\r\n')[1]!;
      const replica = ports[3 + i]!;
      // A replica learns of its master through gossip: retried until it knows the id.
      await until(async () => (await command(replica, ['CLUSTER', 'REPLICATE', masterId])).startsWith('+OK'), 20_000, 'a replica to follow its master');
      shards.push({ master: masters[i]!, replica });
    }
    await until(async () => {
      const infos = await Promise.all(ports.map((port) => command(port, ['CLUSTER', 'INFO'])));
      const links = await Promise.all(shards.map(({ replica }) => command(replica, ['INFO', 'replication'])));
      return infos.every((info) => info.includes('cluster_state:ok')) && links.every((info) => info.includes('master_link_status:up'));
    }, 30_000, 'the cluster to agree and the replicas to sync');
  } catch (error) {
    await stopAll(servers, dir);
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    nodes: shards.map(({ master }) => `127.0.0.1:${master}`),
    rootNodes: shards.map(({ master }) => ({ host: '127.0.0.1', port: master })),
    shards,
    processOf: (port) => byPort.get(port)!.child,
    command,
    async waitForMaster(port, timeoutMs = 20_000) {
      await until(async () => (await command(port, ['ROLE'])).includes('$6\r\nmaster\r\n'), timeoutMs, `the node on ${port} to be a master`);
    },
    async waitForReplicated(port, timeoutMs = 20_000) {
      await until(async () => {
        const info = await command(port, ['INFO', 'replication']);
        const offset = /master_repl_offset:(\d+)/.exec(info)?.[1];
        return offset !== undefined && new RegExp(`slave0:[^\r\n]*,offset=${offset},`).test(info);
      }, timeoutMs, `the replica of ${port} to acknowledge its writes`);
    },
    stop: () => (stopped ??= stopAll(servers.map((s) => (s.child.kill('SIGCONT'), s)), dir)),
  };
}
