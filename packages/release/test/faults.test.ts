// The fault knobs of test releases: the prologue really changes what an http server answers, and only
// for its route (run in a child node with a server on an ephemeral port).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FAULTS } from '../src/index.js';
import { faultBanner } from '../src/faults.js';

/** Runs the banner, then a server answering 200 to everything, and returns the status of each request. */
function statuses(fault: keyof typeof FAULTS, requests: Array<[method: string, path: string]>): number[] {
  const script = `${faultBanner(fault)}
import { createServer } from 'node:http';
const server = createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1', async () => {
  const out = [];
  for (const [method, path] of ${JSON.stringify(requests)}) out.push((await fetch('http://127.0.0.1:' + server.address().port + path, { method })).status);
  process.stdout.write(JSON.stringify(out));
  server.close();
});`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 })) as number[];
}

describe('release fault knobs', () => {
  it('never-ready: /health/ready answers 503, everything else as usual', () => {
    expect(statuses('never-ready', [['GET', '/health/ready'], ['GET', '/health/live'], ['GET', '/api/tags']])).toEqual([503, 200, 200]);
  });
  it('error-route: GET /api/articles answers 500 (query string too), POST /api/articles and other routes do not', () => {
    expect(statuses('error-route', [['GET', '/api/articles?limit=1'], ['POST', '/api/articles'], ['GET', '/api/tags'], ['GET', '/health/ready']])).toEqual([500, 200, 200, 200]);
  });
  it('refuses an unknown fault', () => {
    expect(() => faultBanner('nope' as keyof typeof FAULTS)).toThrow(/unknown release fault "nope": one of never-ready, error-route/);
  });
});
