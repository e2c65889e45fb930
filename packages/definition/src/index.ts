export { definitionSchema, type DefinitionInput, type ParsedDefinition } from './schema.js';
export {
  resolve,
  regionDefinition,
  defineStack,
  invariants,
  zoneFor,
  DefinitionError,
  type ResolvedDefinition,
  type ResolvedScaling,
  type Zone,
  type InstanceSlot,
  type DbNode,
  type CacheNode,
  type SentinelNode,
  type Tier,
} from './resolve.js';
export { observabilityAlarms, backupVerifyMaxAgeSeconds, type Alarm, type AwsAlarm, type AwsAlarmMetric, type AwsAlarmTarget, type AwsComparison, type LocalAlarm } from './alarms.js';
export { observabilityPanels, type Panel, type AwsPanelMetric, type AwsTarget, type LocalSource } from './panels.js';
export { capacitySchema, measuredCapacity, derivedTargetRps, type CapacityResult, type CapacityStep } from './capacity.js';
export { CACHE_ACCESS, cacheAclRules, type CacheAccess, type CacheClientAccess } from './cache-access.js';
