export { definitionSchema, type DefinitionInput, type ParsedDefinition } from './schema.js';
export {
  resolve,
  regionDefinition,
  defineStack,
  invariants,
  zoneFor,
  DefinitionError,
  type ResolvedDefinition,
  type Zone,
  type InstanceSlot,
  type DbNode,
  type CacheNode,
  type SentinelNode,
  type Tier,
} from './resolve.js';
export { observabilityPanels, type Panel, type AwsPanelMetric, type AwsTarget, type LocalSource } from './panels.js';
