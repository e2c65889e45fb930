import { describe, expect, it } from 'vitest';
import { observabilityPanels, resolve } from '../src/index.js';

describe('observabilityPanels', () => {
  const d = resolve({ observability: { alarms: { p99LatencyMs: 750, http5xxPercent: 2 } } });
  const panels = observabilityPanels(d);

  it('has unique ids, and each threshold is the alarm field it names', () => {
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const latency = panels.find((p) => p.id === 'api-latency')!;
    expect(latency.threshold).toEqual({ value: 750, field: 'observability.alarms.p99LatencyMs' });
    expect(panels.filter((p) => p.threshold?.field === 'observability.alarms.http5xxPercent').map((p) => [p.id, p.threshold!.value])).toEqual([['front-errors', 2], ['api-errors', 2]]);
  });

  it('names the instance bounds of the definition and draws every local panel from Prometheus', () => {
    expect(panels.find((p) => p.id === 'api-instances')!.title).toBe(`api: instances in service (min ${d.api.instances.min}, max ${d.api.instances.max})`);
    for (const p of panels) {
      if (p.local.kind === 'prometheus') expect(p.local.series.length, p.id).toBeGreaterThan(0);
      // A panel with no local source is an AWS one, and says why on the local chart.
      else expect([p.aws.length, p.local.why.length > 0], p.id).toEqual([1, true]);
    }
  });
});

describe('console ports', () => {
  it('must differ from every other port of the region', () => {
    expect(() => resolve({ local: { ports: { console: 9090 } } })).toThrow('local port 9090 is used by both local.ports.prometheus and local.ports.console');
    expect(() => resolve({ local: { ports: { alertmanager: 8080 } } })).toThrow('local port 8080 is used by both local.ports.edge and local.ports.alertmanager');
  });
});
