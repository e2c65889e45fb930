// Closed-model load with Debian's wrk (C, far cheaper per request than a Node client, so the client
// takes less of the 2 cores from the server it measures). A Lua `done` hook prints the figures as JSON.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WrkOptions {
  url: string;
  connections: number;
  threads: number;
  seconds: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface WrkResult {
  rps: number;
  requests: number;
  /** Latency percentiles in ms. */
  p50: number;
  p99: number;
  /** Responses with a status >= 400. */
  non2xx: number;
  /** Connect/read/write errors and timeouts. */
  errors: number;
}

export function assertWrk(): void {
  if (!existsSync('/usr/bin/wrk')) throw new Error('wrk is missing: apt-get install -y wrk (npm start and npm test install it)');
}

const lua = (o: WrkOptions) => `
wrk.method = ${JSON.stringify(o.method ?? 'GET')}
${o.body === undefined ? '' : `wrk.body = ${JSON.stringify(o.body)}`}
${Object.entries(o.headers ?? {}).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join('\n')}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"seconds":%f,"p50":%f,"p99":%f,"status":%d,"errors":%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    e.status, e.connect + e.read + e.write + e.timeout))
end
`;

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  try {
    const script = join(dir, 'script.lua');
    writeFileSync(script, lua(o));
    const args = ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.seconds}s`, '--timeout', '10s', '-s', script, o.url];
    const out = await new Promise<string>((res, rej) => {
      execFile('wrk', args, { timeout: (o.seconds + 20) * 1000 }, (err, stdout, stderr) => (err ? rej(new Error(`wrk failed: ${err.message} ${stderr}`)) : res(stdout)));
    });
    const line = out.split('\n').find((l) => l.startsWith('WRK '));
    if (!line) throw new Error(`wrk printed no summary:\n${out}`);
    const j = JSON.parse(line.slice(4)) as { requests: number; seconds: number; p50: number; p99: number; status: number; errors: number };
    return { rps: j.requests / j.seconds, requests: j.requests, p50: j.p50, p99: j.p99, non2xx: j.status, errors: j.errors };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
