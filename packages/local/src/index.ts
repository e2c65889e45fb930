// @conduit/local — the local region: generators (config text), specs (process specs and admin SQL as data), runner
// (the only place that spawns), supervisor (owns every process), controllers (ticks).
export * from './paths.js';
export type { RegionSecrets, DbTopology, RestartPolicy, Probe, ProcessSpec, ProcessRecord, ProcessesFile } from './types.js';
export * from './generators/index.js';
export * from './specs/index.js';
export { readRegion, readRedundancy, type RedundancyState, readTopology, writeTopology, loadOrCreateSecrets, readSecrets, supervisorState, watchdogState, takeLockFile, type RegionSnapshot, type WatchdogState } from './state.js';
export { openEntries, type JournalEntry } from './journal.js';
export {
  spawnProcess, stopProcessGroup, isAlive, isOurProcess, processState, processCpuMs, processRssMb, runOnce, probe, tcpProbe, httpGet, waitUntil, takenPorts,
  runSql, queryNode, withNode, haproxyCommand, haproxyServers, backendStat, redisCommand, redisRole, sentinelMasterPort, supervisorRequest,
  type HttpResult, type ServerStat, type ControlRequest, type ControlResponse,
} from './runner/index.js';
export type { Controller, ControllerContext } from './controllers/types.js';
export type { RegionPlan, SupervisorMessage } from './supervisor/plan.js';
export { supervisorLogLine, readSupervisorLine, supervisorLevel } from './supervisor/log-line.js';
export { rotateLogs, LOG_ROTATION_EVERY_MS } from './supervisor/log-rotation.js';
export { RegionError } from './region/errors.js';
export { regionUp, demoLogin, type UpOptions, type UpResult } from './region/up.js';
export { regionDown, regionDestroy, type DownResult } from './region/down.js';
export { regionStatus, formatStatusTable, formatTierLines, backupVerifyStatus, backupVerifyLine, type RegionStatus, type ProcessStatus, type Health, type BackupVerifyStatus } from './region/status.js';
export { regionLogs, followLog } from './region/logs.js';
export { addInstance, removeInstance } from './region/instances.js';
export { addToPool, drainFromPool, poolInstance, type PoolInstance, type PoolTier, type RolloutTarget, type AddOptions } from './rollout.js';
export { sourceVersion, ensureRelease, installedRelease, installedReleases, currentVersion, readHistory, previousVersion, type InstalledRelease, type HistoryEntry } from './releases.js';
export { regionDeploy, regionRollback, type DeployOptions, type DeployReport, type ReplacedInstance } from './region/deploy.js';
export { judgeCanary, type CanaryVerdict, type GroupFigures } from './canary.js';
export type { ReleaseFault } from '@conduit/release';
export { backupNow, backupList, verifyLatest, restoreRegion, type BackupOptions, type BackupListing, type RestoreReport } from './region/backup.js';
export { liveSnapshot, verifyDue, verifyReference, readVerify, type VerifyResult } from './backup/verify.js';
export { backupEnv, type BackupEnv } from './backup/env.js';
export { takeFullBackup, backupSource } from './backup/full.js';
export { archiveOnce, archiveEnd, listSegments, type ArchiverState } from './backup/archiver.js';
export { preflight, buildDataset, installDataset, listFulls, tableSums, type Dataset, type TableSum } from './backup/restore.js';
export { planRestore, parseTarget, inHistory, forkArchive, PlanError, type FullManifest, type SegmentMeta, type RestorePlan, type RestoreTarget } from './backup/catalog.js';
export { EncryptStream, DecryptStream, keyId, loadOrCreateBackupKey } from './backup/crypto.js';
export { splitTransactions, sliceTransactions, parseGtid, seqOf } from './backup/binlog-text.js';
export { purgeArchivedBinlogs, purgeTarget, gtidListSeq, type BinlogFile } from './backup/binlog-purge.js';
export { seedVolume, type VolumeSeedResult } from './region/seed.js';
export { volumeSeedBatches, parseSize } from './specs/volume.js';
export {
  localRegions, regionsByRole, regionFailoverNow, regionsUp, regionsDown, regionsDestroy, regionsStatus, crossRegionStatus, dnsAnswer, formatRegionsLines, gtidDistance,
  type LocalRegion, type RegionsUpResult, type RegionsStatus, type CrossRegion, type DnsAnswer,
} from './region/regions.js';
export { readRegionRole } from './state.js';
export { regionSwitchover, type SwitchoverReport } from './region/switchover.js';
export { regionRejoin, type RejoinReport } from './region/rejoin.js';
export type { RegionRole } from './types.js';
