export { checkPipeline, lintWorkflows, loadPipeline, type Pipeline, type Workflow } from './pipeline.js';
