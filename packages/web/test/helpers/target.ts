// THE one place that decides what the browser tests run against:
//   CONDUIT_URL=http://host:port  an already running site, e.g. the local region's edge
//                                 (`node packages/cli/bin/tier.mjs status --json` -> endpoints.edge)
//   unset                         a stand-in started here: front server (dist + /api proxy) and an API
//                                 (the real packages/api on throwaway MariaDB/Redis when it can start,
//                                 else an in-memory fake; CONDUIT_STANDIN_API=real|fake forces one)
import { startStandIn } from './stand-in.ts';

export interface Target {
  url: string;
  /** What is behind url, for the test log. */
  description: string;
  stop(): Promise<void>;
}

export async function resolveTarget(): Promise<Target> {
  const external = process.env.CONDUIT_URL;
  if (external) return { url: external.replace(/\/$/, ''), description: `CONDUIT_URL ${external}`, stop: async () => {} };
  return startStandIn();
}
