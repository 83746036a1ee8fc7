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

/** What IAM checks for one recorded call: the actions it needs on the resources it names. */
export interface RequiredPermission {
  readonly action: string;
  readonly resource: string;
}

const SQS_BATCH_ACTIONS: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};
const TRANSACT_ACTIONS: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };

const named = z.looseObject({ TableName: z.string(), IndexName: z.string().optional() });

/**
 * The permissions a DynamoDB or SQS call needs, as AWS's service authorization reference states them: a
 * batch is authorised as its single action, a transaction as each of its items, a query on an index against
 * the index's ARN. `tableArn` and `queueArn` turn the names in the request into ARNs.
 */
export const requiredPermissions = (
  call: { service: 'dynamodb' | 'sqs'; operation: string; body: Record<string, unknown> },
  tableArn: (name: string) => string,
  queueArn: (url: string) => string,
): RequiredPermission[] => {
  if (call.service === 'sqs') {
    const { QueueUrl } = z.looseObject({ QueueUrl: z.string() }).parse(call.body);
    return [{ action: `sqs:${SQS_BATCH_ACTIONS[call.operation] ?? call.operation}`, resource: queueArn(QueueUrl) }];
  }
  switch (call.operation) {
    case 'BatchWriteItem':
    case 'BatchGetItem':
      return Object.keys(z.looseObject({ RequestItems: z.record(z.string(), z.unknown()) }).parse(call.body).RequestItems).map((table) => ({
        action: `dynamodb:${call.operation}`,
        resource: tableArn(table),
      }));
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return z
        .looseObject({ TransactItems: z.array(z.record(z.string(), named)) })
        .parse(call.body)
        .TransactItems.flatMap((item) =>
          Object.entries(item).map(([kind, target]) => ({ action: `dynamodb:${TRANSACT_ACTIONS[kind] ?? kind}`, resource: tableArn(target.TableName) })),
        );
    default: {
      const { TableName, IndexName } = named.parse(call.body);
      return [{ action: `dynamodb:${call.operation}`, resource: IndexName ? `${tableArn(TableName)}/index/${IndexName}` : tableArn(TableName) }];
    }
  }
};
