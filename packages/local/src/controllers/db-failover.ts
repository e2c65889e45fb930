// The database failover controller (Aurora's job on AWS), as a tick in the style of Patroni's HA loop:
// observe every node, HAProxy and the topology file; decide with a pure function (db-failover-decide.ts);
// act through the runner (db-failover-runner.ts); say what it did in one sentence.
// The supervisor calls tick() every ~250 ms. Ticks never overlap; every step is safe to repeat.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DbNode, ResolvedDefinition } from '@conduit/definition';
import { decide, type Decision, type Memory, type Observed, type Policy } from './db-failover-decide.js';
import { createRunner, type AdminConnection } from './db-failover-runner.js';
import { planSteps, type ReplicationCredentials } from './db-failover-steps.js';
import { dbSocket } from '../paths.js';
import type { Controller, ControllerContext } from './types.js';

export { decide, parseGtid, compareGtid, mergeGtid, hasErrantTransactions } from './db-failover-decide.js';
export type { Decision, Observed, NodeState, Memory, Policy, DbTopology } from './db-failover-decide.js';
export { planSteps, replicaOfSql, primarySemiSyncSql, type Step } from './db-failover-steps.js';
export { createRunner, haproxyCommand, parseShowStat, readTopology, writeTopology, type AdminConnection } from './db-failover-runner.js';

export interface DbFailoverOptions {
  definition: ResolvedDefinition;
  stateDir: string;
  log: (sentence: string) => void;
  /** Admin login per node. default: from <stateDir>/secrets.json (adminUser/adminPassword), else root over TCP without a password. */
  admin?: (node: DbNode) => AdminConnection;
  /** Replication login. default: replUser/replPassword from <stateDir>/secrets.json. */
  replication?: ReplicationCredentials;
  /** default: <stateDir>/db-topology.json */
  topologyFile?: string;
  /** default: <stateDir>/run/haproxy.sock */
  haproxySocket?: string;
  /** A replica further behind leaves the reader endpoint. default: 2 s */
  maxReaderLagSeconds?: number;
  /** Every decision as a JSON line {at, kind, sentence}, for drill reports. default: <stateDir>/logs/db-failover.jsonl; null: none. */
  journalFile?: string | null;
}

export interface DbFailoverController {
  /** One observe → decide → act round. Returns the sentence it logged, or null when there was nothing to do. */
  tick(now?: number): Promise<string | null>;
  /** The last decision (for status pages and tests). */
  readonly last: Decision;
}

interface SecretsLike {
  replUser?: string;
  replPassword?: string;
  adminUser?: string;
  adminPassword?: string;
}

function readSecrets(stateDir: string): SecretsLike {
  const file = join(stateDir, 'secrets.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SecretsLike;
  } catch {
    return {};
  }
}

export function createDbFailoverController(opts: DbFailoverOptions): DbFailoverController {
  const d = opts.definition;
  const policy: Policy = {
    failoverAfterMs: d.database.failoverAfterMs,
    semiSyncTimeoutMs: d.database.semiSyncTimeoutMs,
    maxReaderLagSeconds: opts.maxReaderLagSeconds ?? 2,
  };
  const topologyFile = opts.topologyFile ?? join(opts.stateDir, 'db-topology.json');
  const journalFile = opts.journalFile === undefined ? join(opts.stateDir, 'logs', 'db-failover.jsonl') : opts.journalFile;
  // Secrets are read lazily: the bootstrap writes them after the supervisor may have started ticking.
  const admin = opts.admin ?? ((node: DbNode): AdminConnection => {
    const s = readSecrets(opts.stateDir);
    return { host: '127.0.0.1', port: node.port, user: s.adminUser ?? 'root', password: s.adminPassword ?? '' };
  });
  const replication = (): ReplicationCredentials => {
    if (opts.replication) return opts.replication;
    const s = readSecrets(opts.stateDir);
    if (!s.replUser || s.replPassword === undefined) throw new Error(`no replication credentials: ${join(opts.stateDir, 'secrets.json')} has no replUser/replPassword`);
    return { user: s.replUser, password: s.replPassword };
  };
  const runner = createRunner({ nodes: d.dbNodes, topologyFile, haproxySocket: opts.haproxySocket ?? join(opts.stateDir, 'run', 'haproxy.sock'), admin });

  let memory: Memory = { unreachableSince: {} };
  let last: Decision = { kind: 'none' };
  let lastSentence: string | null = null;
  let busy = false;

  // Stamped when said (after observing and acting), not when the tick started: a tick can wait on a hung node.
  const say = (kind: string, sentence: string, _tickStartedAt: number): string => {
    const now = Date.now();
    lastSentence = sentence;
    opts.log(sentence);
    if (journalFile) {
      try {
        mkdirSync(dirname(journalFile), { recursive: true });
        appendFileSync(journalFile, JSON.stringify({ at: new Date(now).toISOString(), kind, sentence }) + '\n');
      } catch {
        /* the journal is for reports; never fail a tick for it */
      }
    }
    return sentence;
  };

  async function tick(now = Date.now()): Promise<string | null> {
    if (busy) return null;
    busy = true;
    try {
      const observed: Observed = await runner.observe(now);
      const r = decide(observed, memory, policy);
      memory = r.memory;
      last = r.decision;
      const decision = r.decision;
      if (decision.kind === 'none') {
        lastSentence = null;
        return null;
      }
      // Waiting and being blocked are said once, not every 250 ms.
      if (decision.kind === 'wait' || decision.kind === 'blocked') {
        if (lastSentence !== null && (decision.kind === 'wait' ? lastSentence.startsWith(`primary ${decision.node} unreachable`) : lastSentence === decision.sentence)) return null;
        return say(decision.kind, decision.sentence, now);
      }
      let steps;
      try {
        const needsReplication = decision.kind === 'failover' || decision.kind === 'repoint' || decision.kind === 'rewind';
        steps = planSteps(decision, { nodes: d.dbNodes, topology: observed.topology!, replication: needsReplication ? replication() : { user: '', password: '' }, policy, now, hasReader: observed.reader !== null });
        await runner.run(steps);
      } catch (e) {
        const sentence = `could not carry out "${decision.sentence}": ${(e as Error).message}`;
        if (sentence === lastSentence) return null;
        return say(`${decision.kind}-failed`, sentence, Date.now());
      }
      return say(decision.kind, decision.sentence, now);
    } finally {
      busy = false;
    }
  }

  return {
    tick,
    get last() {
      return last;
    },
  };
}

/**
 * The supervisor's entry point (controllers/load.ts): the controller of the running region, logging in
 * as root over each node's Unix socket. The supervisor logs the sentence tick() returns; the journal
 * (<stateDir>/logs/db-failover.jsonl) keeps them with timestamps for the drill reports.
 */
export function createController(ctx: ControllerContext): Controller {
  const c = createDbFailoverController({
    definition: ctx.definition,
    stateDir: ctx.stateDir,
    log: () => undefined,
    admin: (node) => ({ socketPath: dbSocket(ctx.paths, node), user: 'root', password: '' }),
    topologyFile: ctx.paths.topology,
    haproxySocket: ctx.paths.haproxySocket,
  });
  return { name: 'db-failover', tick: () => c.tick() };
}
