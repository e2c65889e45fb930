// The capacity benchmark's committed result (`tier bench capacity` writes capacity/api.json): how many
// requests per second one API instance carries within the SLO, measured, with the machine and the date.
// The definition derives scaling.targetRpsPerInstance from it; this module only gives it a type and a check.
import { z } from 'zod';
import measured from '../capacity/api.json' with { type: 'json' };

const step = z.strictObject({
  /** Arrival rate of the mix at the edge, requests per second (open model). */
  rate: z.number().min(0),
  /** Requests per second that reached the API load balancer (the autoscaler's and the ALB's metric). */
  apiRps: z.number().min(0),
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
  errorRate: z.number().min(0).max(1),
  /** CPU of the one API instance, percent of one core. */
  cpuPercent: z.number().nullable(),
  rssMb: z.number().nullable(),
  withinSlo: z.boolean(),
});

export const capacitySchema = z.strictObject({
  measuredAt: z.string(),
  machine: z.strictObject({ cpus: z.number().int().min(1), model: z.string(), memoryGb: z.number(), loadAverage1m: z.number() }),
  command: z.string(),
  mix: z.string(),
  slo: z.strictObject({ p99Ms: z.number(), errorRate: z.number() }),
  /** The knee: the highest stepped rate still within the SLO, with the API tier pinned to one instance. */
  knee: z.strictObject({
    edgeRps: z.number().min(0),
    /** What scaling.targetRpsPerInstance is derived from: the API load balancer's rate at the knee. */
    apiRpsPerInstance: z.number().min(1),
    p50Ms: z.number().nullable(),
    p99Ms: z.number().nullable(),
    cpuPercent: z.number().nullable(),
    rssMb: z.number().nullable(),
  }),
  /** The same load generator against a bare node:http server, same run: what this machine can drive at all. */
  ceiling: z.strictObject({ rps: z.number().min(0), kneePercent: z.number().min(0) }),
  steps: z.array(step),
  ceilingSteps: z.array(step.pick({ rate: true, p50Ms: true, p99Ms: true, errorRate: true, withinSlo: true })),
});
export type CapacityResult = z.infer<typeof capacitySchema>;
export type CapacityStep = CapacityResult['steps'][number];

/** The committed benchmark result (packages/definition/capacity/api.json), checked once at import. */
export const measuredCapacity: CapacityResult = capacitySchema.parse(measured);

/** scaling.targetRpsPerInstance when the definition does not set it: the knee × the target utilisation. */
export const derivedTargetRps = (kneeApiRps: number, utilisation: number): number => Math.max(1, Math.floor(kneeApiRps * utilisation));
