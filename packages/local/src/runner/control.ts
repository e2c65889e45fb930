// Client of the supervisor's control socket (<stateDir>/run/supervisor.sock): start/stop/list processes
// of a running region, e.g. from the autoscaler or a drill.
import { createConnection } from 'node:net';
import { statePaths } from '../paths.js';
import type { ControlRequest, ControlResponse } from '../supervisor/plan.js';

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
