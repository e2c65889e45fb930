// The AWS target: CDK Terrain (cdktn) stacks built from the resolved definition, synthesized to Terraform JSON.
export { buildStacks, synthesize, countResources, stackDirs, APP_CONTEXT, type AwsOptions, type Transform, type SynthSummary, type BuiltStacks } from './app.js';
export { awsSettings, type AwsSettings, type RegionPlan } from './settings.js';
export { policyRules, checkStack, type PolicyRule, type Violation, type SynthJson } from './policy/rules.js';
export { appUserSql } from './constructs/database.js';
export { terraformCommands, findTerraformBinary, MISSING_BINARY, type TerraformStep, type TerraformBinary } from './terraform.js';
export { estimateCost, formatCost, CostError, USAGE, type CostReport, type CostLine } from './cost/estimate.js';
export { PRICES, PRICES_AS_OF } from './cost/prices.js';
