// The examples are the test matrix: each synthesizes to disk through synthesize() (the path `tier synth aws` takes).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { synthesize } from '../src/app.js';
import { examples } from './helpers.js';

describe('examples', () => {
  for (const [name, input] of Object.entries(examples)) {
    it(`${name} synthesizes every stack to Terraform JSON`, () => {
      const out = mkdtempSync(join(tmpdir(), `aws-${name}-`));
      const summary = synthesize(resolve(input), out);
      console.log(`${name}: ${Object.entries(summary.resources).map(([s, n]) => `${s} ${n}`).join(', ')} — ${(summary.durationMs / 1000).toFixed(2)} s`);
      const stacks = Object.keys(summary.resources);
      expect(stacks.length).toBe(resolve(input).regions.secondary ? 4 : 3);
      for (const stack of stacks) {
        const json = JSON.parse(readFileSync(join(out, 'stacks', stack, 'cdk.tf.json'), 'utf8'));
        expect(json.terraform.required_providers.aws.source).toBe('hashicorp/aws');
        expect(summary.resources[stack]).toBeGreaterThan(5);
      }
    });
  }
});
