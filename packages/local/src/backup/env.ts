// What every backup operation works with: the definition, the region's state paths, the backup
// folder outside it (object store data, key store), the S3 client and the data key.
import type { ResolvedDefinition } from '@conduit/definition';
import { backupPaths, statePaths, type BackupPaths, type StatePaths } from '../paths.js';
import { keyId, loadOrCreateBackupKey } from './crypto.js';
import { localObjectStore, type ObjectStore } from './store.js';

export interface BackupEnv {
  definition: ResolvedDefinition;
  paths: StatePaths;
  backups: BackupPaths;
  store: ObjectStore;
  key: Buffer;
  keyId: string;
  log: (line: string) => void;
}

export function backupEnv(definition: ResolvedDefinition, stateDir: string, configFile: string, log: (line: string) => void = () => undefined, key?: Buffer): BackupEnv {
  const backups = backupPaths(definition, configFile);
  const k = key ?? loadOrCreateBackupKey(backups.keys, definition.name);
  return { definition, paths: statePaths(stateDir), backups, store: localObjectStore(definition), key: k, keyId: keyId(k), log };
}
