// The shape of a deployment definition, as a user writes it in stack.config.ts.
// Every optional field states its default here, once; `resolve()` derives everything else.
import { z } from 'zod';

const port = z.number().int().min(1024).max(65535);
const positiveInt = z.number().int().min(1);
const loopback = z.string().regex(/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/, 'a loopback address such as 127.0.2.1');

/** How many instances a tier runs: the Auto Scaling group's min/desired/max on AWS, the supervisor's on the local region. */
const instances = (min: number, desired: number, max: number) =>
  z
    .strictObject({
      min: z.number().int().min(0).default(min).describe(`default: ${min}`),
      desired: z.number().int().min(0).default(desired).describe(`default: ${desired}`),
      max: positiveInt.default(max).describe(`default: ${max}`),
    })
    .prefault({});

const healthCheck = (path: string, livenessPath: string) =>
  z
    .strictObject({
      /**
       * Readiness: may a new instance join the pool (the rollout's health barrier and `tier status`): for the
       * API, its writer answers. Never what the load balancer checks: a database failover fails it on every
       * instance at once, and a pool that drops them all turns a one-second failover the API hides (its retry
       * budget) into seconds of 503s for every request.
       */
      path: z.string().startsWith('/').default(path).describe(`default: ${path}`),
      /**
       * Liveness: does the process work at all. What the load balancer checks (local HAProxy, AWS target group)
       * and what replaces an instance (Auto Scaling ELB health), so a database failover takes no instance out.
       */
      livenessPath: z.string().startsWith('/').default(livenessPath).describe(`default: ${livenessPath}`),
      intervalMs: z.number().int().min(100).max(60_000).default(1000).describe('default: 1000 ms'),
      /** Consecutive failures before an instance leaves the pool. */
      fall: positiveInt.max(10).default(2).describe('default: 2'),
      /** Consecutive successes before it comes back. */
      rise: positiveInt.max(10).default(2).describe('default: 2'),
    })
    .prefault({});

export const definitionSchema = z
  .strictObject({
    /** Lower-case name used for every resource, tag, process label and database. */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,30}$/, 'lower-case letters, digits and dashes, 2-31 characters, starting with a letter')
      .default('conduit')
      .describe('default: conduit'),

    regions: z
      .strictObject({
        primary: z.string().regex(/^[a-z]{2}-[a-z]+-\d$/, 'an AWS region name such as eu-west-1').default('eu-west-1'),
        /** The DNS-failover region; null for a single-region deployment. */
        secondary: z
          .string()
          .regex(/^[a-z]{2}-[a-z]+-\d$/, 'an AWS region name such as eu-central-1')
          .nullable()
          .default('eu-central-1')
          .describe('default: eu-central-1; null = single region'),
        /**
         * How long a region's readiness must fail before DNS sends clients to the other region. Longer than a
         * routine writer failover inside a region (Aurora: 30-60 s), which must not move the whole site.
         */
        failoverAfterSeconds: z.number().int().min(20).max(300).default(90).describe('default: 90 s'),
        /**
         * Unplanned region failover: `automatic` promotes the secondary once the primary region's health has failed
         * for `local.regionFailoverAfterMs` (locally; Route 53 + an operator runbook on AWS); `manual` only reports it
         * and waits for `tier region failover`.
         */
        failover: z.enum(['automatic', 'manual']).default('automatic').describe('default: automatic'),
        /**
         * Warm standby sizing of the secondary region (every tier still runs). Each null field means "as the primary".
         * Read by the local secondary region and by the AWS secondary region's stack (its groups and Aurora readers).
         */
        secondaryScale: z
          .strictObject({
            /** Front instances the secondary runs (its desired and min). default: as the primary */
            front: z.number().int().min(1).nullable().default(null).describe('default: as the primary'),
            /** API instances the secondary runs (its desired and min). default: as the primary */
            api: z.number().int().min(1).nullable().default(null).describe('default: as the primary'),
            /** Read replicas of the secondary's database primary. default: as the primary */
            databaseReplicas: z.number().int().min(0).max(15).nullable().default(null).describe('default: as the primary'),
          })
          .prefault({}),
        /** The global entry point: Route 53 failover records on AWS, PowerDNS with LUA records locally. */
        dns: z
          .strictObject({
            /** Host name of the site inside edge.domain (or `<name>.test` locally when there is no domain). */
            record: z.string().regex(/^[a-z0-9-]{1,63}$/).default('www').describe('default: www'),
            /** TTL of the failover answer: clients may keep using a dead region this long after the flip. */
            ttlSeconds: z.number().int().min(1).max(60).default(5).describe('default: 5 s'),
            /**
             * Health path of a region, through its edge: 200 while the region's API has a writable database writer
             * (or lost it less than local.regionFailoverAfterMs ago), 503 otherwise (a standby region is 503).
             */
            healthPath: z.string().startsWith('/').default('/health/region').describe('default: /health/region'),
          })
          .prefault({}),
      })
      .prefault({}),

    /** Availability zones per region; instances, replicas and nodes are spread round-robin over them. */
    zones: z.number().int().min(1).max(6).default(3).describe('default: 3'),

    /** Public entry point: CloudFront on AWS, Varnish locally. */
    edge: z
      .strictObject({
        /** Optional custom domain (Route 53 zone + ACM certificate on AWS). */
        domain: z.string().nullable().default(null).describe('default: none (the CloudFront domain)'),
        /** Cache lifetime of content-hashed assets. */
        assetMaxAgeSeconds: positiveInt.default(31_536_000).describe('default: one year'),
        /**
         * Public, anonymous API GETs may be kept this long by the local edge (Varnish), which the API purges on
         * every write; CloudFront does not cache /api (see packages/aws/README.md). 0 disables.
         */
        apiMaxAgeSeconds: z.number().int().min(0).max(300).default(5).describe('default: 5 s'),
        /** Requests per 5 minutes per client IP before the WAF blocks it. */
        rateLimitPer5Min: z.number().int().min(100).default(2000).describe('default: 2000'),
      })
      .prefault({}),

    front: z
      .strictObject({
        instances: instances(2, 3, 6),
        healthCheck: healthCheck('/', '/'),
        instanceType: z.string().default('t4g.micro').describe('default: t4g.micro'),
      })
      .prefault({}),

    api: z
      .strictObject({
        instances: instances(3, 3, 9),
        healthCheck: healthCheck('/health/ready', '/health/live'),
        instanceType: z.string().default('t4g.small').describe('default: t4g.small'),
        /** Seconds a deregistering instance keeps serving in-flight requests. */
        drainSeconds: z.number().int().min(0).max(300).default(10).describe('default: 10 s'),
        /**
         * Origins browsers may call the API from (CORS), e.g. ['https://app.example.com']; '*' allows any. The API
         * authenticates with a header, not cookies, so any origin is safe unless you want to narrow it.
         */
        corsAllowedOrigins: z
          .array(
            z.string().refine((o) => {
              if (o === '*') return true;
              try {
                return new URL(o).origin === o;
              } catch {
                return false;
              }
            }, "an origin like https://app.example.com (scheme, host, optional port; no path) or '*'"),
          )
          .min(1)
          .default(['*'])
          .describe("default: ['*'] (any origin)"),
        /**
         * Abuse limits, counted in the cache (Redis) so they hold across every instance however many the
         * autoscaler runs; while the cache is down each instance counts on its own (the same limits, per instance).
         */
        rateLimits: z
          .strictObject({
            /** Sign-ins and registrations per client IP per minute (the client IP the edge saw). */
            authPerIpPerMinute: z.number().int().min(1).default(30).describe('default: 30'),
            /** Sign-in attempts per account (email) per 15 minutes, from any IP: slows password guessing spread over many IPs. */
            loginPerAccountPer15Min: z.number().int().min(1).default(10).describe('default: 10'),
            /** Writes (articles, comments, favorites, follows, profile) per signed-in user per minute. */
            writesPerUserPerMinute: z.number().int().min(1).default(60).describe('default: 60'),
          })
          .prefault({}),
        /** Sessions and password storage. */
        auth: z
          .strictObject({
            /**
             * How long a token is valid after it is issued. The SPA gets a new one from GET /user each time it
             * opens, so an active user stays signed in; a password change ends every older token anyway.
             */
            tokenLifetimeHours: z.number().int().min(1).max(24 * 90).default(24).describe('default: 24 h'),
            /**
             * PUT /user may change the email or password without the current password (`user.currentPassword`)
             * this long after the sign-in the token descends from (RealWorld clients do not send it; they make
             * such changes right after signing in). 0: always required.
             */
            recentSignInMinutes: z.number().int().min(0).max(24 * 60).default(10).describe('default: 10 min'),
            /**
             * scrypt parameters of new password hashes (a sign-in rehashes older ones). OWASP's N=2^17,r=8,p=1
             * costs 128 MiB per hash; N=2^14,r=8,p=5 is its listed equivalent at 16 MiB. Lower only in test
             * definitions (hundreds of sign-ups per run).
             */
            scrypt: z
              .strictObject({
                N: z.number().int().min(1024).max(2 ** 17).refine((n) => (n & (n - 1)) === 0, 'a power of two').default(16_384).describe('default: 16384 (2^14)'),
                r: z.number().int().min(1).max(32).default(8).describe('default: 8'),
                p: z.number().int().min(1).max(16).default(5).describe('default: 5'),
              })
              .prefault({}),
          })
          .prefault({}),
        /**
         * V8 heap limits of each instance (NODE_OPTIONS, both targets). The live heap under load is ~33 MB; left
         * alone V8 lets old space grow to ~190 MB RSS and keeps 3 × 16 MB of young space. Measured with
         * `npm run bench:api` (same rps within noise): no flags 189 MB peak RSS, old space 64 MB 127 MB, plus
         * semi space 4 MB 108 MB.
         */
        heap: z
          .strictObject({
            maxOldSpaceMb: z.number().int().min(48).max(4096).default(64).describe('default: 64 MB'),
            maxSemiSpaceMb: z.number().int().min(1).max(64).default(4).describe('default: 4 MB'),
            /**
             * glibc malloc arenas (MALLOC_ARENA_MAX, both targets); 0: glibc's own (8 per core). Node's threads each
             * get an arena of their own, which keeps freed memory: `test/bench/ab.ts` (2026-11-30, 3 rounds, the
             * same release side by side) gave peak RSS 106 MB with glibc's default, 103 MB with 2, 97 MB with 1,
             * at the same rps on every route within the run's noise.
             */
            mallocArenas: z.number().int().min(0).max(64).default(1).describe('default: 1'),
          })
          .prefault({}),
      })
      .prefault({}),

    /** Rolling deploys (`tier deploy` locally; the instance refresh's checkpoint and alarms on AWS). */
    deploy: z
      .strictObject({
        /**
         * Canary window: after the first new instance of each tier joins the pool, it serves traffic this
         * long beside the old ones before the others are replaced; its errors and latency are compared.
         */
        bakeSeconds: z.number().int().min(0).max(3600).default(30).describe('default: 30 s'),
        /** The canary's 5xx share may exceed the old instances' by at most this (0.01 = one point). */
        maxErrorRateIncrease: z.number().min(0).max(1).default(0.01).describe('default: 0.01 (1 percentage point)'),
        /**
         * The canary's response time may be at most this multiple of the old instances'. Locally from
         * HAProxy's per-server `rtime` (average of the last 1024 responses; HAProxy keeps no percentile).
         */
        maxLatencyRatio: z.number().min(1).default(2).describe('default: 2'),
        /**
         * Response times below this are compared as this: HAProxy's rtime counts whole milliseconds, and
         * 1 ms against 3 ms on a loaded machine is noise, not a slower release.
         */
        latencyFloorMs: z.number().int().min(1).max(10_000).default(10).describe('default: 10 ms'),
        /** Requests the canary must have answered before its latency is judged (errors are judged from the first). */
        minCanaryRequests: z.number().int().min(1).default(20).describe('default: 20'),
        /** A new instance must pass its health check within this, or the deploy stops and rolls back. */
        readyWithinSeconds: positiveInt.max(600).default(60).describe('default: 60 s'),
      })
      .prefault({}),

    /** The delivery pipeline (GitHub Actions → AWS): who may deploy, and the runtime every stage uses. */
    delivery: z
      .strictObject({
        /**
         * The GitHub repository (owner/name) whose deploy workflow may assume the AWS deploy role (OIDC; the
         * role's trust names this repository and the environments below, nothing else). null: no deploy role.
         */
        githubRepository: z
          .string()
          .regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, 'owner/name of a GitHub repository')
          .nullable()
          .default(null)
          .describe('default: none (no OIDC deploy role)'),
        /** GitHub environments whose jobs may assume the deploy role (production has required reviewers). */
        environments: z
          .array(z.string().regex(/^[A-Za-z0-9_.-]+$/))
          .min(1)
          .default(['staging', 'production'])
          .describe("default: ['staging', 'production']"),
        /**
         * Node.js major version of the shipped runtime: what the AWS instances install and what CI's `npm test`
         * and the deploy workflow set up. The code stays Node 20 compatible either way (esbuild target node20,
         * @types/node 20, a CI job on the engines floor). 22: Node 20 left security support in April 2026.
         */
        nodeMajor: z.union([z.literal(20), z.literal(22)]).default(22).describe('default: 22 (the LTS in security support)'),
      })
      .prefault({}),

    /** Target tracking for the API tier (AWS: ALB request count per target; local: the autoscaler). */
    scaling: z
      .strictObject({
        /**
         * Requests per second (at the API load balancer) one API instance should carry. default: derived from the
         * committed capacity benchmark (`tier bench capacity` → packages/definition/capacity/api.json): its knee
         * (the highest rate one instance carries within the SLO) × targetUtilisation. Set it only to override the
         * measurement (a test region with a tiny target).
         */
        targetRpsPerInstance: positiveInt.nullable().default(null).describe('default: capacity benchmark knee × targetUtilisation'),
        /**
         * Share of the measured knee an instance is asked to carry: the headroom left for a burst during the
         * time a scale-out takes (new instances serve in ~10 s locally, minutes on AWS).
         */
        targetUtilisation: z.number().min(0.1).max(1).default(0.6).describe('default: 0.6 (60 % of the knee)'),
        /** Secondary target on CPU, in percent. */
        targetCpuPercent: z.number().int().min(10).max(95).default(60).describe('default: 60 %'),
        scaleOutCooldownSeconds: z.number().int().min(0).default(60).describe('default: 60 s'),
        scaleInCooldownSeconds: z.number().int().min(0).default(300).describe('default: 300 s'),
      })
      .prefault({}),

    /**
     * Service level objectives of the site, as its users see it through the edge. The capacity benchmark's knee is
     * the highest rate one API instance carries within them; the scale-out drill holds the region to them.
     */
    slo: z
      .strictObject({
        /** 99th percentile of request latency (open-model: from when the request was due), milliseconds. */
        p99Ms: positiveInt.max(60_000).default(250).describe('default: 250 ms'),
        /** Share of requests that may fail (5xx, timeouts, refused connections). */
        errorRate: z.number().min(0).max(0.5).default(0.001).describe('default: 0.001 (0.1 %)'),
      })
      .prefault({}),

    database: z
      .strictObject({
        /** Read replicas (Aurora readers). default: one per zone other than the writer's. */
        replicas: z.number().int().min(0).max(15).nullable().default(null).describe('default: zones - 1'),
        instanceClass: z.string().default('db.r6g.large').describe('default: db.r6g.large'),
        engineVersion: z.string().default('8.0.mysql_aurora.3.08.0').describe('default: 8.0.mysql_aurora.3.08.0'),
        /** Database (schema) name the application uses. */
        databaseName: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/).default('conduit').describe('default: conduit'),
        /** Semi-synchronous replication timeout before the primary falls back to async (locally). */
        semiSyncTimeoutMs: positiveInt.default(10_000).describe('default: 10000 ms'),
        /**
         * How long the primary must be gone before the failover controller promotes a replica: its own socket
         * refuses connections (nothing listens: the process died or is shutting down) and the writer endpoint
         * (HAProxy) gets no answer from it either. Both paths must agree: one of them failing alone (a full
         * connection table, the controller's own slowness, HAProxy) promotes nothing.
         */
        failoverAfterMs: z.number().int().min(200).default(1000).describe('default: 1000 ms'),
        /**
         * How long the primary may stay connected but silent on both paths (the connection is accepted, nothing
         * answers: a SIGSTOP, a frozen disk, a starved machine) before a replica is promoted. Longer than
         * failoverAfterMs: a stall may end by itself, and a promotion then costs every session the primary held.
         */
        stallFailoverAfterMs: z.number().int().min(200).default(5000).describe('default: 5000 ms'),
        /**
         * How long a replica's applier (SQL thread) may stay stopped on an error that says its data cannot be
         * trusted (a corrupt index or table, a row it lacks or holds twice: it diverged from the primary) before
         * the local failover controller replaces its data with a new copy of a healthy node's (re-clone: the
         * old data dir is kept aside), and it rejoins. Such an error never clears by itself. 0: never, an operator
         * decides. Aurora replaces a failed reader by itself; not used there.
         */
        recloneBrokenReplicaAfterMs: z.number().int().min(0).default(10_000).describe('default: 10000 ms'),
        /**
         * What a commit waits for on the local MariaDB nodes (every node: any of them may become the primary).
         * `full`: sync_binlog=1 and innodb_flush_log_at_trx_commit=1, an acknowledged commit is on disk and
         * survives an OS crash. `relaxed`: sync_binlog=0 and innodb_flush_log_at_trx_commit=2, written to the
         * OS at once and to disk about every second: an OS crash of the machine (all nodes share its disk)
         * loses the last second everywhere. Aurora is always durable (its storage quorum); not used there.
         */
        durability: z.enum(['full', 'relaxed']).default('full').describe('default: full'),
        /**
         * When the primary dies after committing without any replica's acknowledgement (semi-sync had fallen
         * back to async: its replicas were lost or too slow), a replica may lack acknowledged writes.
         * `wait`: no automatic promotion; alert and wait for the primary to come back (the supervisor restarts
         * it) or for an operator: never lose an acknowledged write (Patroni's strict synchronous mode).
         * `promote`: promote the most advanced replica anyway, preferring availability; the controller says
         * since when writes may be lost, and the old primary's extra transactions are saved when it returns.
         */
        asyncPrimaryFailover: z.enum(['wait', 'promote']).default('wait').describe('default: wait'),
        /**
         * How long an API instance retries a statement that surely did not run (no connection to the writer,
         * the demoted primary's read-only refusal) and any read, before answering 503: covers a failover
         * (promotion after failoverAfterMs + ~0.3 s) so clients never see it. A write that may have run (its
         * COMMIT got no answer) is never retried blindly: within the same budget the API looks for the write's
         * mark on the writer and answers it as committed, or runs it again once when the mark is absent
         * (packages/api/README.md, "The write path"). 0 = no retry.
         */
        clientRetryBudgetMs: z.number().int().min(0).max(30_000).default(3000).describe('default: 3000 ms'),
        /** A replica further behind than this leaves the reader endpoint until it catches up (local failover controller). */
        readerMaxLagSeconds: z.number().int().min(0).max(3600).default(2).describe('default: 2 s'),
        deletionProtection: z.boolean().default(true).describe('default: true'),
        /**
         * AWS: create the cluster from a backup instead of empty — a snapshot (its identifier or ARN, e.g. a
         * recovery point copied to this region's vault) or a point in time of another cluster (an ISO time, or
         * 'latest' for its latest restorable time). Read once, at creation; ignored afterwards. With a Global
         * Database the global cluster is then made from the restored cluster. default: none (an empty cluster).
         */
        restore: z
          .union([
            z.strictObject({ snapshot: z.string().min(1) }),
            z.strictObject({ pointInTime: z.strictObject({ sourceCluster: z.string().min(1), time: z.union([z.literal('latest'), z.iso.datetime()]) }) }),
          ])
          .nullable()
          .default(null)
          .describe('default: none (an empty cluster)'),
      })
      .prefault({}),

    cache: z
      .strictObject({
        /** Replicas of the Redis primary (ElastiCache replicas). */
        replicas: z.number().int().min(0).max(5).default(1).describe('default: 1'),
        /** Sentinels watching the primary (local region only; ElastiCache does this itself). */
        sentinels: positiveInt.max(7).default(3).describe('default: 3'),
        quorum: positiveInt.default(2).describe('default: 2'),
        downAfterMs: z.number().int().min(100).default(1000).describe('default: 1000 ms'),
        nodeType: z.string().default('cache.t4g.small').describe('default: cache.t4g.small'),
        /** Cache-aside lifetime of hot API reads. */
        ttlSeconds: positiveInt.default(60).describe('default: 60 s'),
      })
      .prefault({}),

    backup: z
      .strictObject({
        retentionDays: z.number().int().min(1).max(35).default(7).describe('default: 7 days'),
        /** Full backups every N hours; binlogs are archived continuously in between (point-in-time restore). */
        fullEveryHours: positiveInt.max(168).default(24).describe('default: 24 h'),
        /** Preferred backup window, UTC (AWS format hh:mm-hh:mm). */
        window: z.string().regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/).default('02:00-03:00').describe('default: 02:00-03:00'),
        /** Copy each backup to the secondary region. */
        copyToSecondary: z.boolean().default(true).describe('default: true'),
        /**
         * The binlog archive uploads the open binlog tail at least this often (the RPO of a restore from
         * the archive). AWS: Aurora's continuous backup has its own (~5 min) granularity.
         */
        archiveEverySeconds: positiveInt.max(300).default(5).describe('default: 5 s'),
        /**
         * The backup agent verifies the backups this often: the latest full backup plus the archive restored
         * into a throwaway server and compared, table by table, with a consistent snapshot of a replica at the
         * same GTID (what `tier backup verify` does). The first verify runs one period after the oldest full
         * backup. Fractions allowed (0.5: every 30 min). The backup-verify alarm fires when the last verify
         * failed, or when none succeeded for a period plus half a period (at most one hour more).
         * AWS: Aurora's backups are AWS's own; no restore test is synthesized there.
         */
        verifyEveryHours: z.number().positive().max(168).default(24).describe('default: 24 h'),
      })
      .prefault({}),

    observability: z
      .strictObject({
        logRetentionDays: positiveInt.default(30).describe('default: 30 days'),
        /** Local region: each log file is rotated at this size by the ops console, one old copy kept (<name>.1). */
        logFileMaxMb: positiveInt.max(10_000).default(64).describe('default: 64 MB'),
        /**
         * Local region: Prometheus keeps at most this much (`--storage.tsdb.retention.size`, besides
         * logRetentionDays), so the metrics of a long-running region cannot fill the disk. AWS: CloudWatch
         * metrics are AWS's own store, kept by its own retention.
         */
        metricsMaxMb: positiveInt.max(100_000).default(1024).describe('default: 1024 MB'),
        /** Where alarms are sent (AWS: an SNS email subscription to confirm once). default: none (alarms only show in the console). */
        alarmEmail: z.email().nullable().default(null).describe('default: none'),
        scrapeIntervalSeconds: positiveInt.max(60).default(5).describe('default: 5 s'),
        /** The local region runs the ops console, Alertmanager and the blackbox exporter (test regions turn them off to stay small). */
        console: z.boolean().default(true).describe('default: true'),
        alarms: z
          .strictObject({
            http5xxPercent: z.number().min(0).max(100).default(1).describe('default: 1 %'),
            p99LatencyMs: positiveInt.default(500).describe('default: 500 ms'),
            replicaLagSeconds: positiveInt.default(5).describe('default: 5 s'),
            cpuPercent: z.number().int().min(10).max(100).default(80).describe('default: 80 %'),
            freeableMemoryMb: positiveInt.default(256).describe('default: 256 MB'),
          })
          .prefault({}),
      })
      .prefault({}),

    /** The local region: where state lives and which loopback ports it uses. */
    local: z
      .strictObject({
        /** Data, generated configs, logs and pids; relative paths are from the definition file's folder. */
        stateDir: z.string().min(1).default('.state').describe('default: .state'),
        ports: z
          .strictObject({
            edge: port.default(8080).describe('default: 8080 (the site)'),
            edgeAdmin: port.default(8081).describe('default: 8081 (varnishadm)'),
            edgePurge: port.default(8082).describe('default: 8082 (edge purges, from the API instances only)'),
            front: port.default(8090).describe('default: 8090 (front load balancer)'),
            api: port.default(8091).describe('default: 8091 (API load balancer)'),
            lbStats: port.default(8404).describe('default: 8404 (HAProxy stats and /metrics)'),
            frontInstancesBase: port.default(8100).describe('default: 8100 (+i for front instance i)'),
            apiInstancesBase: port.default(8200).describe('default: 8200 (+i for API instance i)'),
            dbWriter: port.default(13306).describe('default: 13306 (writer endpoint)'),
            dbReader: port.default(13307).describe('default: 13307 (reader endpoint)'),
            dbNodesBase: port.default(13310).describe('default: 13310 (+i for database node i)'),
            redisBase: port.default(16379).describe('default: 16379 (+i for Redis node i)'),
            sentinelBase: port.default(26379).describe('default: 26379 (+i for Sentinel i)'),
            prometheus: port.default(9090).describe('default: 9090'),
            mysqldExporter: port.default(9104).describe('default: 9104'),
            redisExporter: port.default(9121).describe('default: 9121'),
            console: port.default(9300).describe('default: 9300 (the ops console: topology, charts, log search, alerts)'),
            alertmanager: port.default(9093).describe('default: 9093 (Alertmanager; its cluster port is off)'),
            blackboxExporter: port.default(9115).describe('default: 9115 (synthetic checks of the site and API through the edge)'),
            objectStore: port.default(9000).describe('default: 9000 (the S3-compatible object store holding the backups: s3rver)'),
            /** The global DNS server (PowerDNS), on 127.0.0.1; runs beside the secondary region (only with two regions). */
            dns: port.default(8053).describe('default: 8053 (PowerDNS: the failover record)'),
          })
          .prefault({}),
        /**
         * Loopback address of each region (Linux routes all of 127.0.0.0/8 to lo: no setup), so both regions use the
         * same ports, as two AWS regions do.
         */
        addresses: z
          .strictObject({
            primary: loopback.default('127.0.0.1').describe('default: 127.0.0.1 (the single-region URLs stay the same)'),
            secondary: loopback.default('127.0.2.1').describe('default: 127.0.2.1'),
          })
          .prefault({}),
        /** Which region of the definition this state folder runs: set by `tier up` for each region, not by hand. */
        region: z.enum(['primary', 'secondary']).default('primary').describe('default: primary'),
        /** `tier up` also runs the secondary region when regions.secondary is set (test regions turn it off to stay small). */
        runSecondary: z.boolean().default(true).describe('default: true'),
        /**
         * How long the primary region's health (regions.dns.healthPath) must fail before the secondary takes over
         * (regions.failover automatic). Longer than an in-region database failover (~1-3 s here) so that one never
         * moves the whole site; the local stand-in for Route 53's interval x failure threshold.
         */
        regionFailoverAfterMs: z.number().int().min(1000).max(120_000).default(4000).describe('default: 4000 ms'),
        /**
         * The object store's data (the backup buckets) and the local key store (the backup encryption key,
         * KMS's part): outside the state folder, so `tier destroy` keeps the backups, as on AWS. Relative
         * paths are from the definition file's folder.
         */
        backupsDir: z.string().min(1).default('.backups').describe('default: .backups'),
        /** Load the demo data on the first start. */
        seed: z.boolean().default(true).describe('default: true'),
      })
      .prefault({}),
  });

/** What a user writes: every field optional. */
export type DefinitionInput = z.input<typeof definitionSchema>;
/** The parsed definition with field defaults applied (derived values come from resolve()). */
export type ParsedDefinition = z.output<typeof definitionSchema>;
