// @conduit/release — builds the release artifacts the AWS instances install (see README.md).
export { buildRelease, formatSummary, frontNginxConf, gitVersion, SWAGGER_UI_DIR, type Artifact, type Manifest, type ReleaseFile, type ReleaseOptions, type ReleaseResult } from './release.js';
export { FAULTS, type ReleaseFault } from './faults.js';
