/**
 * What a function may do according to a synthesized template: the Allow statements of the policies on its
 * role, flattened to (action, resource) grants, and IAM's wildcard matching to check a call against them.
 */
import { z } from 'zod';
import { type CfnTemplate, type IntrinsicResolver, placeholders, resolveIntrinsics, resource, resourcesOfType } from './template';

export interface Grant {
  readonly action: string;
  readonly resource: string;
}

const statementSchema = z.strictObject({
  Effect: z.literal('Allow'),
  Action: z.union([z.string(), z.array(z.string())]),
  Resource: z.unknown(),
  Sid: z.string().optional(),
});
const policyDocumentSchema = z.looseObject({ Statement: z.array(statementSchema) });
const getAttSchema = z.strictObject({ 'Fn::GetAtt': z.tuple([z.string(), z.string()]) });
const refSchema = z.strictObject({ Ref: z.string() });

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** The logical id of a function's role. */
export const roleOf = (template: CfnTemplate, functionId: string): string =>
  getAttSchema.parse(resource(template, functionId).Properties?.Role)['Fn::GetAtt'][0];

/**
 * Every (action, resource) the function's role allows. Statements with conditions, denials, NotAction or
 * managed policies are refused by the schema, so nothing is silently left out of the check.
 */
export const grantsOf = (template: CfnTemplate, functionId: string, resolver: IntrinsicResolver = placeholders): Grant[] => {
  const roleId = roleOf(template, functionId);
  const role = resource(template, roleId);
  if (role.Properties?.ManagedPolicyArns) throw new Error(`${roleId} has managed policies, which this check cannot read`);
  const documents = [
    ...z.array(z.looseObject({ PolicyDocument: z.unknown() })).parse(role.Properties?.Policies ?? []).map((policy) => policy.PolicyDocument),
    ...resourcesOfType(template, 'AWS::IAM::Policy')
      .filter(([, policy]) => z.array(refSchema).parse(policy.Properties?.Roles ?? []).some((ref) => ref.Ref === roleId))
      .map(([, policy]) => policy.Properties?.PolicyDocument),
  ];
  return documents.flatMap((document) =>
    policyDocumentSchema.parse(document).Statement.flatMap((statement) =>
      list(statement.Action).flatMap((action) =>
        list(statement.Resource).map((value) => ({ action, resource: String(resolveIntrinsics(value, resolver)) })),
      ),
    ),
  );
};

/** `action resource` lines, sorted: what a test compares. */
export const grantLines = (grants: readonly Grant[]): string[] => [...new Set(grants.map((grant) => `${grant.action} ${grant.resource}`))].sort();

const wildcard = (pattern: string, flags: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, flags);

/** IAM matching: `*` any run of characters, `?` one; actions ignore case, resources do not. */
export const allows = (grants: readonly Grant[], action: string, resourceArn: string): boolean =>
  grants.some((grant) => wildcard(grant.action, 'i').test(action) && wildcard(grant.resource, '').test(resourceArn));
