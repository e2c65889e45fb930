// An IAM access evaluator over synthesized policies, for the questions a first apply would answer too late:
// "can this role read that object? decrypt with that key through S3?". It follows AWS's evaluation logic for
// one account: an explicit Deny anywhere wins; otherwise the identity policies must allow, and for a KMS key the
// key policy must allow too (directly, or by delegating to IAM through the account root); for an S3 object or a
// secret in the same account, an Allow in either the identity or the resource policy is enough.
// Resources are compared as synthesized text, Terraform references included: a request names the object as
// `${aws_s3_bucket.releases_bucket_X.arn}/api/current.tar.gz`, the way the policies name it.
// Supported condition operators: StringEquals, StringNotEquals, StringLike, ArnLike, ArnEquals, Bool (anything
// else makes the statement not apply and is reported, never silently treated as a match).

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface AccessRequest {
  /** e.g. s3:GetObject */
  action: string;
  /** ARN of the object, secret or key (synthesized text). */
  resource: string;
  /** The calling principal, for resource policies: e.g. arn:aws:iam::ACCOUNT:role/name (synthesized text). */
  principal: string;
  /** Request context keys, e.g. { 'kms:ViaService': 's3.eu-west-1.amazonaws.com', 'aws:SecureTransport': 'true' }. */
  context?: Record<string, string>;
}

export interface AccessDecision {
  allowed: boolean;
  /** One sentence: which statement decided, or what is missing. */
  reason: string;
}

const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);

/** IAM wildcards: `*` any run of characters, `?` one character; action names compare case-insensitively. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`, ignoreCase ? 'i' : '');
  return re.test(value);
}

function conditionHolds(condition: PolicyStatement['Condition'], context: Record<string, string>): { holds: boolean; unsupported?: string } {
  for (const [operator, tests] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(tests)) {
      const actual = context[key];
      const values = asList(expected);
      let ok: boolean;
      switch (operator) {
        case 'StringEquals':
        case 'ArnEquals':
          ok = actual !== undefined && values.includes(actual);
          break;
        case 'StringNotEquals':
          ok = actual === undefined || !values.includes(actual);
          break;
        case 'StringLike':
        case 'ArnLike':
          ok = actual !== undefined && values.some((v) => globMatch(v, actual));
          break;
        case 'Bool':
          ok = actual !== undefined && values.map((v) => v.toLowerCase()).includes(actual.toLowerCase());
          break;
        default:
          return { holds: false, unsupported: operator };
      }
      if (!ok) return { holds: false };
    }
  }
  return { holds: true };
}

function principalMatches(principal: unknown, caller: string, accountRoot: string): boolean {
  if (principal === undefined) return true; // identity policy: the caller is the principal
  if (principal === '*') return true;
  const aws = asList((principal as { AWS?: unknown }).AWS);
  // A role's trust policy names an identity provider (OIDC, SAML): the caller is that provider's ARN.
  if (asList((principal as { Federated?: unknown }).Federated).includes(caller)) return true;
  // The account root in a resource policy delegates to the account's IAM policies.
  return aws.some((p) => p === '*' || p === caller || p === accountRoot);
}

/** Statements that apply to the request, with the effect each gives. */
function matching(statements: PolicyStatement[], req: AccessRequest, accountRoot: string, notes: string[]): PolicyStatement[] {
  return statements.filter((s) => {
    const actions = asList(s.Action);
    const actionOk = s.NotAction !== undefined ? !asList(s.NotAction).some((a) => globMatch(a, req.action, true)) : actions.some((a) => globMatch(a, req.action, true));
    if (!actionOk) return false;
    if (!asList(s.Resource ?? '*').some((r) => globMatch(r, req.resource))) return false;
    if (!principalMatches(s.Principal, req.principal, accountRoot)) return false;
    const c = conditionHolds(s.Condition, req.context ?? {});
    if (c.unsupported) notes.push(`statement ${s.Sid ?? '(no Sid)'} uses the unsupported operator ${c.unsupported}`);
    return c.holds;
  });
}

export interface AccessPolicies {
  /** Every statement of every identity policy attached to the caller. */
  identity: PolicyStatement[];
  /** The resource's own policy (bucket policy, key policy, secret policy), if any. */
  resource?: PolicyStatement[];
  /** true for KMS keys: the key policy must allow (directly or via the account root); IAM alone is not enough. */
  resourcePolicyRequired?: boolean;
  /** arn:aws:iam::ACCOUNT:root as synthesized. */
  accountRoot: string;
}

export function evaluateAccess(req: AccessRequest, p: AccessPolicies): AccessDecision {
  const notes: string[] = [];
  const idm = matching(p.identity, req, p.accountRoot, notes);
  const resm = matching(p.resource ?? [], req, p.accountRoot, notes);
  const suffix = notes.length ? ` (${notes.join('; ')})` : '';
  const deny = [...idm, ...resm].find((s) => s.Effect === 'Deny');
  if (deny) return { allowed: false, reason: `explicitly denied by ${deny.Sid ?? 'a statement without Sid'}${suffix}` };
  const idAllow = idm.find((s) => s.Effect === 'Allow');
  const resAllow = resm.find((s) => s.Effect === 'Allow');
  if (p.resourcePolicyRequired) {
    if (!resAllow) return { allowed: false, reason: `the key policy allows no ${req.action} for ${req.principal}${suffix}` };
    // A key policy statement naming the caller itself allows on its own; the account root only delegates to IAM.
    const direct = asList((resAllow.Principal as { AWS?: unknown } | undefined)?.AWS).includes(req.principal);
    if (!direct && !idAllow) return { allowed: false, reason: `no identity policy allows ${req.action} on ${req.resource} with this context${suffix}` };
    return { allowed: true, reason: `allowed by ${idAllow?.Sid ?? 'the key policy'} and the key policy's ${resAllow.Sid ?? 'statement'}` };
  }
  if (idAllow || resAllow) return { allowed: true, reason: `allowed by ${(idAllow ?? resAllow)!.Sid ?? 'a statement without Sid'}` };
  return { allowed: false, reason: `no policy allows ${req.action} on ${req.resource} with this context (implicit deny)${suffix}` };
}

/** The statements of a policy document given as JSON text (as synthesized). */
export function statementsOf(policy: unknown): PolicyStatement[] {
  if (typeof policy !== 'string') return [];
  const doc = JSON.parse(policy) as { Statement?: PolicyStatement | PolicyStatement[] };
  return Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
}
