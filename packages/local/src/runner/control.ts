// The supervisor's control socket (<stateDir>/run/supervisor.sock), both ends: one JSON request per
// line, one JSON answer per line. Tools (the `tier` commands, drills) start/stop/list processes of a
// running region through it.
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { statePaths } from '../paths.js';

export type ControlRequest =
  | { op: 'list' }
  /** version: the release an API/front instance runs (default: the region's current one). */
  | { op: 'start'; name: string; version?: string }
  | { op: 'stop'; name: string }
  | { op: 'forget'; name: string }
  /** Pins the API tier to `instances` (the autoscaler moves there and stops scaling); null unpins. */
  | { op: 'pin-api'; instances: number | null };

export type ControlResponse = { ok: true; result: unknown } | { ok: false; error: string };

/** The supervisor's end: answers each request line with handle()'s result, or its error. */
export function serveControl(socketPath: string, handle: (req: ControlRequest) => Promise<unknown>): Server {
  rmSync(socketPath, { force: true });
  const server = createServer((sock) => {
    let buf = '';
    sock.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        void (async (): Promise<ControlResponse> => {
          try {
            return { ok: true, result: await handle(JSON.parse(line) as ControlRequest) };
          } catch (e) {
            return { ok: false, error: (e as Error).message };
          }
        })().then((r) => sock.write(JSON.stringify(r) + '\n'));
      }
    });
    sock.on('error', () => undefined);
  });
  server.listen(socketPath);
  return server;
}

/** A tool's end: one request to a running region's supervisor. */
export function supervisorRequest(stateDir: string, req: ControlRequest, timeoutMs = 60_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ path: statePaths(stateDir).supervisorSocket });
    let buf = '';
    s.setTimeout(timeoutMs, () => { s.destroy(); reject(new Error(`supervisor: no answer to ${req.op} in ${timeoutMs} ms`)); });
    s.on('connect', () => s.write(JSON.stringify(req) + '\n'));
    s.on('data', (d) => {
      buf += d.toString('utf8');
      const i = buf.indexOf('\n');
      if (i < 0) return;
      s.end();
      const r = JSON.parse(buf.slice(0, i)) as ControlResponse;
      if (r.ok) resolve(r.result);
      else reject(new Error(`supervisor: ${r.error}`));
    });
    s.on('error', (e) => reject(new Error(`supervisor control socket: ${e.message} (is the region running?)`)));
  });
}
