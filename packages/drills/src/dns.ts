// A client's view of the global entry point: it resolves the site's name through the DNS servers (one per
// region: a resolver asks the next when one does not answer) and keeps
// the answer for its TTL, as a stub resolver with a cache does, then asks again. The drill's load sends each
// request to the address it holds at that moment, so a region failover reaches it only through DNS.
import { Resolver } from 'node:dns/promises';

export interface DnsChange {
  at: number;
  address: string | null;
  ttl: number | null;
}

export interface DnsFollower {
  /** http://ADDRESS:PORT of the current answer (the last good one while the server does not answer). */
  url(): string;
  /** Every change of the answer, with its time. */
  changes: DnsChange[];
  stop(): void;
}

/**
 * Resolves `name` through servers (host:port, asked in order) now, then again whenever the answer's TTL has
 * passed. Rejects when the first question gets no answer.
 */
export async function followDns(servers: string[], name: string, port: number, o: { minTtlMs?: number } = {}): Promise<DnsFollower> {
  const resolver = new Resolver({ timeout: 1_000, tries: 1 });
  resolver.setServers(servers);
  const changes: DnsChange[] = [];
  let current: string | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const ask = async (): Promise<number> => {
    try {
      const [r] = await resolver.resolve4(name, { ttl: true });
      const address = r?.address ?? null;
      if (address !== current) {
        changes.push({ at: Date.now(), address, ttl: r?.ttl ?? null });
        current = address;
      }
      return Math.max((r?.ttl ?? 1) * 1000, o.minTtlMs ?? 0);
    } catch {
      // No answer: keep the last one and ask again soon (a resolver retries).
      return 500;
    }
  };
  const loop = async () => {
    const wait = await ask();
    if (!stopped) timer = setTimeout(() => void loop(), wait);
  };
  const first = await ask();
  if (current === null) throw new Error(`the DNS servers ${servers.join(', ')} gave no address for ${name}: is the global entry point running?`);
  timer = setTimeout(() => void loop(), first);
  return {
    url: () => `http://${current}:${port}/`,
    changes,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
