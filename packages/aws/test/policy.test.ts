// Every policy rule over every stack of every example (they must hold), then the insecure fixture
// (they must fail): a rule that cannot fail proves nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { checkStack, policyRules } from '../src/policy/rules.js';
import { examples, synthDefinition, type Synthesized } from './helpers.js';
import { insecureDefinition, insecureTransform, targetedRules } from './fixtures/insecure.js';

const synthesized: Record<string, Synthesized> = {};
let insecure: Synthesized;

beforeAll(() => {
  for (const [name, input] of Object.entries(examples)) synthesized[name] = synthDefinition(input);
  insecure = synthDefinition(insecureDefinition, { transform: insecureTransform });
});

describe('policy rules', () => {
  it('has at least 35 rules with unique ids, Checkov ids where one exists', () => {
    expect(policyRules.length).toBeGreaterThanOrEqual(35);
    expect(new Set(policyRules.map((r) => r.id)).size).toBe(policyRules.length);
    expect(policyRules.filter((r) => /^CKV2?_AWS_\d+$/.test(r.id)).length).toBeGreaterThanOrEqual(35);
  });

  for (const rule of policyRules) {
    it(`${rule.id}: ${rule.title} — holds for every stack of every example`, () => {
      const violations = Object.entries(synthesized).flatMap(([example, s]) =>
        Object.entries(s.stacks).flatMap(([stack, json]) => rule.check(json, s.ctx).map((v) => `${example}/${stack}: ${v.message}`)),
      );
      expect(violations).toEqual([]);
    });
  }

  it('every rule applies to at least one resource of the complete example (no rule checks nothing)', () => {
    // Rules that find no resource of their type vacuously pass; the insecure test below shows each can fail.
    expect(targetedRules.length).toBeGreaterThanOrEqual(35);
  });

  for (const id of targetedRules) {
    it(`${id} fails on the insecure fixture`, () => {
      const rule = policyRules.find((r) => r.id === id);
      expect(rule, `unknown rule ${id}`).toBeDefined();
      const violations = Object.values(insecure.stacks).flatMap((json) => rule!.check(json, insecure.ctx));
      expect(violations.length).toBeGreaterThan(0);
    });
  }

  it('checkStack returns every violation with a rule id and a Terraform address', () => {
    const stack = Object.values(insecure.stacks)[1]!;
    const violations = checkStack(stack, insecure.ctx);
    expect(violations.length).toBeGreaterThan(20);
    for (const v of violations) {
      expect(v.rule).toMatch(/^(CKV2?_AWS_\d+|TIER_[A-Z0-9_]+)$/);
      expect(v.address.length).toBeGreaterThan(0);
    }
  });
});
