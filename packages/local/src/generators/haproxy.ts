// haproxy.cfg: the front and API load balancers (the two ALBs) and the database writer/reader
// endpoints (Aurora's cluster endpoints), from the resolved definition and the current DB topology.
import type { ResolvedDefinition } from '@conduit/definition';
import type { StatePaths } from '../paths.js';
import type { DbTopology } from '../types.js';

export interface HaproxyInput {
  definition: ResolvedDefinition;
  paths: Pick<StatePaths, 'haproxySocket'>;
  topology: DbTopology;
  /**
   * Front/API instances to enable (the ones running when HAProxy is restarted by the supervisor).
   * default: the first `desired` slots of each tier; the other slots up to max are declared disabled.
   */
  activeInstances?: string[];
  /**
   * The unprivileged user HAProxy switches to once its sockets are bound (only a root process can switch).
   * default: none (it keeps the user that started it: the region's, when that is not root).
   */
  runAs?: string;
}

/** The backend names, once: the generator declares them, the runner's callers address servers in them. */
export const BACKENDS = { front: 'be_front', api: 'be_api', dbWriter: 'be_db_writer', dbReader: 'be_db_reader' } as const;
const B = BACKENDS;

const ms = (n: number) => `${n}ms`;
const hc = (h: ResolvedDefinition['api']['healthCheck']) => `inter ${ms(h.intervalMs)} fall ${h.fall} rise ${h.rise}`;

/** `server` lines of a tier's slots: the first `desired` (or the given active ones) enabled, the spares disabled. */
function slotLines(d: ResolvedDefinition, tier: 'front' | 'api', activeInstances: string[] | undefined): string[] {
  return d[`${tier}Slots`].map((s, i) => {
    const active = activeInstances ? activeInstances.includes(s.name) : i < d[tier].instances.desired;
    return `    server ${s.name} ${d.address}:${s.port} check${active ? '' : ' disabled'}  # zone ${s.zone}${active ? '' : ' (spare slot up to max: enabled at runtime when an instance is added)'}`;
  });
}

/** The global and defaults sections (also the API benchmark's load balancer starts from them). */
export function haproxyGlobalAndDefaults(socket: string, runAs?: string): string[] {
  return [
    'global',
    '    # Stays under the machine\'s file-descriptor limit (20000): each proxied connection uses two.',
    '    maxconn 4000',
    '    # Runtime API: the autoscaler and the DB failover controller add/enable/disable servers live.',
    '    # Mode 600: only the user running the region (it creates the socket before dropping privileges).',
    `    stats socket ${socket} mode 600 level admin`,
    ...(runAs
      ? ['    # Started as root (to bind and create the socket as the region\'s user): it then runs as this unprivileged user.', `    user ${runAs}`, `    group ${runAs}`]
      : []),
    '    # Logs go to stdout, which the supervisor writes to logs/lb.log.',
    '    log stdout format raw local0 info',
    '',
    'defaults',
    '    mode http',
    '    log global',
    '    option httplog',
    '    # Only errors, retries and redispatches are logged: a load test must not fill the disk.',
    '    option dontlog-normal',
    '    timeout connect 2s',
    '    timeout client 30s',
    '    timeout server 30s',
    '    timeout http-request 10s',
    '    timeout queue 5s',
    '',
  ];
}

/**
 * The API load balancer (the ALB in front of the API Auto Scaling group): its frontend and backend. Exported so
 * that `npm run bench:api` measures the region's very load balancer against one instance directly.
 */
export function haproxyApiLoadBalancer(d: ResolvedDefinition, activeInstances?: string[]): string[] {
  return [
    '# ---- API tier: Node instances (the ALB in front of the API Auto Scaling group) ----',
    'frontend fe_api',
    `    bind ${d.address}:${d.local.ports.api}`,
    '    # Every API request is logged with its id, which follows it through LB → API → logs (the console',
    '    # searches by it): the client\'s X-Request-Id, or a new one made here.',
    '    no option dontlog-normal',
    '    unique-id-format %{+X}o%ci-%cp-%Ts-%rt-%pid',
    '    http-request set-header X-Request-Id %[unique-id] unless { req.hdr(x-request-id) -m found }',
    '    http-request capture req.hdr(x-request-id) len 64',
    `    default_backend ${B.api}`,
    '',
    `backend ${B.api}`,
    '    balance roundrobin',
    '    # Liveness, as the AWS target group checks: readiness (the writer answers) fails on every instance at',
    '    # once during a database failover, and the API hides that failover from clients (it retries) only if',
    '    # the pool keeps sending it requests. A new instance joins only once ready (the rollout\'s barrier).',
    `    option httpchk GET ${d.api.healthCheck.livenessPath}`,
    '    http-check expect status 200',
    `    default-server ${hc(d.api.healthCheck)}`,
    '    # A failed connection never reached an instance: always safe to retry elsewhere.',
    '    retries 3',
    '    option redispatch 1',
    '    # Layer-7 retries (empty/junk response, timeout, 5xx) only for safe methods: a POST, PUT or',
    '    # DELETE that reached an instance may have been applied, so it is never replayed;',
    '    # disable-l7-retry keeps conn-failure retries for them.',
    '    retry-on all-retryable-errors',
    '    http-request disable-l7-retry unless METH_GET || METH_HEAD || METH_OPTIONS',
    '    # The instance sees the client and the original host.',
    '    option forwardfor',
    ...slotLines(d, 'api', activeInstances),
    '',
  ];
}

export function haproxyConfig({ definition: d, paths, topology, activeInstances, runAs }: HaproxyInput): string {
  const p = d.local.ports;
  const dbByName = new Map(d.dbNodes.map((n) => [n.name, n]));
  const primary = dbByName.get(topology.primary);
  if (!primary) throw new Error(`db-topology primary "${topology.primary}" is not a node of the definition (${[...dbByName.keys()].join(', ')})`);

  return [
    `# HAProxy for the local region "${d.name}" — generated by @conduit/local from the definition; do not edit,`,
    `# run \`tier up\` to regenerate. Plays the two ALBs (front, API) and the Aurora writer/reader endpoints.`,
    '',
    ...haproxyGlobalAndDefaults(paths.haproxySocket, runAs),
    '# Stats page (read-only: no `stats admin`, servers are changed through the mode-600 socket only), a liveness',
    '# URI, and the built-in Prometheus exporter.',
    'frontend stats',
    `    bind ${d.address}:${p.lbStats}`,
    '    monitor-uri /health',
    '    http-request use-service prometheus-exporter if { path /metrics }',
    '    stats enable',
    '    stats uri /stats',
    '    stats refresh 2s',
    '    stats show-legends',
    '',
    '# ---- Front tier: static web servers (the ALB in front of the front Auto Scaling group) ----',
    'frontend fe_front',
    `    bind ${d.address}:${p.front}`,
    `    default_backend ${B.front}`,
    '',
    `backend ${B.front}`,
    '    # roundrobin is dynamic: servers can be added/removed through the runtime API.',
    '    balance roundrobin',
    `    option httpchk GET ${d.front.healthCheck.livenessPath}`,
    '    http-check expect status 200',
    `    default-server ${hc(d.front.healthCheck)}`,
    '    retries 2',
    '    option redispatch 1',
    '    # Static GETs are safe to replay on another instance; anything else only on connection failure.',
    '    retry-on all-retryable-errors',
    '    http-request disable-l7-retry unless METH_GET || METH_HEAD',
    ...slotLines(d, 'front', activeInstances),
    '',
    ...haproxyApiLoadBalancer(d, activeInstances),
    '# ---- Database: Aurora-style cluster endpoints over MariaDB (TCP) ----',
    '# Writer: every node is listed by its definition name; only the current primary is enabled.',
    `# The failover controller switches with \`set server ${B.dbWriter}/<name> state ready|maint\`.`,
    'frontend fe_db_writer',
    '    mode tcp',
    '    option tcplog',
    `    bind ${d.address}:${p.dbWriter}`,
    '    timeout client 1h',
    `    default_backend ${B.dbWriter}`,
    '',
    `backend ${B.dbWriter}`,
    '    mode tcp',
    '    timeout server 1h',
    '    # Sessions to a failed primary are cut at once, so clients reconnect to the new one.',
    '    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions',
    ...d.dbNodes.map((n) =>
      n.name === topology.primary
        ? `    server ${n.name} ${d.address}:${n.port} check  # zone ${n.zone}: current primary`
        : `    server ${n.name} ${d.address}:${n.port} check disabled  # zone ${n.zone}: replica (enabled only if promoted)`,
    ),
    '',
    '# Reader: balances over the replicas; the primary is a backup used only when no replica is up.',
    'frontend fe_db_reader',
    '    mode tcp',
    '    option tcplog',
    `    bind ${d.address}:${p.dbReader}`,
    '    timeout client 1h',
    `    default_backend ${B.dbReader}`,
    '',
    `backend ${B.dbReader}`,
    '    mode tcp',
    '    balance leastconn',
    '    timeout server 1h',
    '    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions',
    ...d.dbNodes.map((n) =>
      n.name === topology.primary
        ? `    server ${n.name} ${d.address}:${n.port} check backup  # zone ${n.zone}: primary, only when no replica is up`
        : `    server ${n.name} ${d.address}:${n.port} check  # zone ${n.zone}: replica`,
    ),
    '',
  ].join('\n');
}
