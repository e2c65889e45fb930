// THE one place that decides what the browser tests run against:
//   CONDUIT_URL=http://host:port   an already running site, e.g. a local region's edge
//                                  (`node packages/cli/bin/tier.mjs status --json` -> endpoints.edge)
//   CONDUIT_STANDIN=1              a quicker stand-in for developing the SPA: a front server (dist + /api
//                                  proxy) in front of the real API on throwaway MariaDB/Redis
//   neither (the default, CI)      bring up a local region of its own (test/region.config.ts, its own
//                                  ports, or the file in CONDUIT_REGION_CONFIG) with `tier up`, test
//                                  through its edge, and `tier destroy` it afterwards
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { webDir } from '../../build-info.mjs';
import { startStandIn } from './stand-in.ts';

const execFileP = promisify(execFile);

export interface Target {
  url: string;
  /** What is behind url, for the test log. */
  description: string;
  stop(): Promise<void>;
}

const repoRoot = join(webDir, '..', '..');
const tier = (args: string[], timeoutMs: number) =>
  execFileP(process.execPath, [join(repoRoot, 'packages/cli/bin/tier.mjs'), ...args], { cwd: repoRoot, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });

async function startRegion(config: string): Promise<Target> {
  try {
    await tier(['up', '--config', config], 300_000);
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`tier up --config ${config} failed: ${(err.stderr || err.stdout || err.message).trim().slice(-2000)}`);
  }
  const { stdout } = await tier(['status', '--config', config, '--json'], 60_000);
  const edge = (JSON.parse(stdout) as { endpoints?: { edge?: string } }).endpoints?.edge;
  if (!edge) throw new Error(`tier status --json printed no endpoints.edge: ${stdout.slice(0, 500)}`);
  return {
    url: edge.replace(/\/$/, ''),
    description: `the edge of a local region brought up from ${config}`,
    stop: async () => { await tier(['destroy', '--config', config], 120_000); },
  };
}

export async function resolveTarget(): Promise<Target> {
  const external = process.env.CONDUIT_URL;
  if (external) return { url: external.replace(/\/$/, ''), description: `CONDUIT_URL ${external}`, stop: async () => {} };
  if (process.env.CONDUIT_STANDIN === '1') return startStandIn();
  return startRegion(process.env.CONDUIT_REGION_CONFIG ?? join(webDir, 'test/region.config.ts'));
}
