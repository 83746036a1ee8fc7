/**
 * What a function may do according to a synthesized template: the Allow statements of the policies on its
 * role, flattened to (action, resource, conditions) grants, and IAM's matching to check a call against them:
 * wildcards in actions and resources, and the string conditions the stack writes (StringEquals, StringLike).
 */
import type { RecordedCall } from './aws-call-recorder';
import { z } from 'zod';
import { tableSchema } from '../../lib/store/dynamodb/table';
import { type CfnTemplate, type IntrinsicResolver, placeholders, resolveIntrinsics, resource, resourcesOfType } from './template';

/**
 * The condition operators this check evaluates; a statement with any other is refused, not ignored.
 * `ForAllValues:StringLike` tests a multi-valued key (DynamoDB's leading keys): every value must match.
 */
const conditionOperators = ['StringEquals', 'StringLike', 'ForAllValues:StringLike'] as const;
type ConditionOperator = (typeof conditionOperators)[number];

export interface GrantCondition {
  readonly operator: ConditionOperator;
  /** A condition key, e.g. `s3:prefix`. */
  readonly key: string;
  /** The condition holds when the request's value for the key matches one of these. */
  readonly values: readonly string[];
}

export interface Grant {
  readonly action: string;
  readonly resource: string;
  /** Every one must hold for the grant to allow a request. */
  readonly conditions: readonly GrantCondition[];
}

const stringOrList = z.union([z.string(), z.array(z.string())]);
const statementSchema = z.strictObject({
  Effect: z.literal('Allow'),
  Action: stringOrList,
  Resource: z.unknown(),
  // A value may be an intrinsic (an ARN the template computes), resolved like the resources.
  Condition: z.partialRecord(z.enum(conditionOperators), z.record(z.string(), z.union([stringOrList, z.record(z.string(), z.unknown())]))).optional(),
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
 * Every (action, resource, conditions) the function's role allows. Statements with other conditions,
 * denials, NotAction or managed policies are refused by the schema, so nothing is silently left out of the check.
 */
export const grantsOf = (template: CfnTemplate, functionId: string, resolver: IntrinsicResolver = placeholders): Grant[] =>
  grantsOfRole(template, roleOf(template, functionId), resolver);

/** Every (action, resource, conditions) a role allows (a function's, or a container run's task or execution role). */
export const grantsOfRole = (template: CfnTemplate, roleId: string, resolver: IntrinsicResolver = placeholders): Grant[] => {
  const role = resource(template, roleId);
  if (role.Properties?.ManagedPolicyArns) throw new Error(`${roleId} has managed policies, which this check cannot read`);
  const documents = [
    ...z.array(z.looseObject({ PolicyDocument: z.unknown() })).parse(role.Properties?.Policies ?? []).map((policy) => policy.PolicyDocument),
    ...resourcesOfType(template, 'AWS::IAM::Policy')
      .filter(([, policy]) => z.array(refSchema).parse(policy.Properties?.Roles ?? []).some((ref) => ref.Ref === roleId))
      .map(([, policy]) => policy.Properties?.PolicyDocument),
  ];
  return documents.flatMap((document) =>
    policyDocumentSchema.parse(document).Statement.flatMap((statement) => {
      const conditions = Object.entries(statement.Condition ?? {}).flatMap(([operator, keys]) =>
        Object.entries(keys ?? {}).map(([key, values]) => ({
          operator: operator as ConditionOperator,
          key,
          values: list<unknown>(values).map((value) => String(resolveIntrinsics(value, resolver))),
        })),
      );
      return list(statement.Action).flatMap((action) =>
        list(statement.Resource).map((value) => ({ action, resource: String(resolveIntrinsics(value, resolver)), conditions })),
      );
    }),
  );
};

/** `action resource [if operator key values]` lines, sorted: what a test compares. */
export const grantLines = (grants: readonly Grant[]): string[] =>
  [
    ...new Set(
      grants.map((grant) =>
        [`${grant.action} ${grant.resource}`, ...grant.conditions.map((condition) => `if ${condition.operator} ${condition.key} ${condition.values.join(' ')}`)].join(' '),
      ),
    ),
  ].sort();

/** grantLines' lines for DynamoDB actions on `resource` confined to the items whose partition keys match `patterns`. */
export const itemGrantLines = (actions: readonly string[], resource: string, patterns: readonly string[]): string[] =>
  actions.map((action) => `dynamodb:${action} ${resource} if ForAllValues:StringLike dynamodb:LeadingKeys ${patterns.join(' ')}`);

const wildcard = (pattern: string, flags: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, flags);

/** A request's values of the condition keys: one string, or several for a multi-valued key. */
export type RequestContext = Readonly<Record<string, string | readonly string[]>>;

/**
 * A single-valued condition holds when the request has its key and its value matches one of the condition's
 * values. `ForAllValues` holds when every value the request has for the key matches one; a request without the
 * key is refused here (IAM would let it through, so a call that names no key counts as over-reaching).
 */
const holds = (condition: GrantCondition, context: RequestContext): boolean => {
  const value = context[condition.key];
  if (value === undefined) return false;
  const matches = (candidate: string) =>
    condition.values.some((wanted) => (condition.operator === 'StringEquals' ? wanted === candidate : wildcard(wanted, '').test(candidate)));
  if (condition.operator === 'ForAllValues:StringLike') return Array.isArray(value) && value.length > 0 && value.every(matches);
  return typeof value === 'string' && matches(value);
};

/**
 * IAM matching: `*` any run of characters, `?` one; actions ignore case, resources do not; every condition
 * of the grant must hold for the request's condition keys (`context`).
 */
export const allows = (grants: readonly Grant[], action: string, resourceArn: string, context: RequestContext = {}): boolean =>
  grants.some(
    (grant) =>
      wildcard(grant.action, 'i').test(action) &&
      wildcard(grant.resource, '').test(resourceArn) &&
      grant.conditions.every((condition) => holds(condition, context)),
  );

/** What IAM checks for one recorded call: the actions it needs on the resources it names. */
export interface RequiredPermission {
  readonly action: string;
  readonly resource: string;
  /** The request's values of the condition keys the stack's grants test (e.g. `s3:prefix`, `dynamodb:LeadingKeys`). */
  readonly context?: RequestContext;
}

/** Turns the names a request carries into ARNs, as IAM sees them. */
export interface ArnResolver {
  tableArn(name: string): string;
  queueArn(url: string): string;
  /** The full ARN (with its random suffix) of the secret a SecretId (name, partial or full ARN) names. */
  secretArn(secretId: string): string;
  /** The ARN of the function a FunctionName (name or ARN) names. @default no Lambda calls expected */
  functionArn?(nameOrArn: string): string;
  /** The ARN of the cluster a RunTask names (name or ARN). @default no ECS calls expected */
  clusterArn?(nameOrArn: string): string;
  /** The task definition a RunTask names (family, family:revision or ARN): its ARN and the roles it names. @default no ECS calls expected */
  taskDefinition?(nameOrArn: string): { readonly arn: string; readonly taskRoleArn?: string; readonly executionRoleArn?: string };
}

/** The service ECS passes a task's roles to: what a worker's `iam:PassRole` is conditioned on. */
export const ECS_TASKS_SERVICE = 'ecs-tasks.amazonaws.com';

/**
 * ECS's RunTask: `ecs:RunTask` on the task definition, in the cluster it names (`ecs:cluster`, default `default`), and
 * `iam:PassRole` to ECS for each role the task will run with: the task definition's task and execution roles, or those
 * the call's overrides name instead (ECS checks that the caller may pass them).
 */
const ecsPermissions = (call: Pick<RecordedCall, 'operation' | 'body'>, arns: ArnResolver): RequiredPermission[] => {
  if (call.operation !== 'RunTask' || !arns.clusterArn || !arns.taskDefinition) throw new Error(`an ECS call this contract does not know: ${call.operation}`);
  const request = z
    .looseObject({
      cluster: z.string().default('default'),
      taskDefinition: z.string(),
      overrides: z.looseObject({ taskRoleArn: z.string().optional(), executionRoleArn: z.string().optional() }).optional(),
    })
    .parse(call.body);
  const definition = arns.taskDefinition(request.taskDefinition);
  const roles = [request.overrides?.taskRoleArn ?? definition.taskRoleArn, request.overrides?.executionRoleArn ?? definition.executionRoleArn];
  return [
    { action: 'ecs:RunTask', resource: definition.arn, context: { 'ecs:cluster': arns.clusterArn(request.cluster) } },
    ...roles.flatMap((role) => (role === undefined ? [] : [{ action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': ECS_TASKS_SERVICE } }])),
  ];
};

/** Lambda's Invoke, as its REST path names it. */
const LAMBDA_INVOKE_PATH = /^\/2015-03-31\/functions\/([^/?]+)\/invocations/;

const SQS_BATCH_ACTIONS: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};
const TRANSACT_ACTIONS: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };

const named = z.looseObject({ TableName: z.string(), IndexName: z.string().optional() });

/** The condition key DynamoDB sets to the partition keys a request names. */
export const LEADING_KEYS = 'dynamodb:LeadingKeys';

/** An attribute value as DynamoDB's JSON protocol sends it; keys here are strings. */
const wireValue = z.looseObject({ S: z.string().optional() });
const wireItem = z.record(z.string(), wireValue);
const transactTarget = named.extend({ Key: wireItem.optional(), Item: wireItem.optional() });

const partitionKeyOf = (item: z.infer<typeof wireItem> | undefined): string => {
  const value = item?.[tableSchema.partitionKey]?.S;
  if (value === undefined) throw new Error(`a DynamoDB request without a string ${tableSchema.partitionKey}: ${JSON.stringify(item)}`);
  return value;
};

const indexPartitionKey = (index: string): string => {
  if (index !== tableSchema.statusIndex.name) throw new Error(`a query on an unknown index ${index}`);
  return tableSchema.statusIndex.partitionKey;
};

/** The partition key value a query's key condition names (`pk = :pk`, the attribute perhaps behind a `#name`). */
const queriedPartition = (
  query: { KeyConditionExpression: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues: Record<string, z.infer<typeof wireValue>> },
  attribute: string,
): string => {
  for (const clause of query.KeyConditionExpression.split(/\s+AND\s+/i)) {
    const match = /^\(?\s*(#?[\w]+)\s*=\s*(:[\w]+)\s*\)?$/.exec(clause.trim());
    if (!match?.[1] || !match[2]) continue;
    const name = match[1].startsWith('#') ? query.ExpressionAttributeNames?.[match[1]] : match[1];
    const value = query.ExpressionAttributeValues[match[2]]?.S;
    if (name === attribute && value !== undefined) return value;
  }
  throw new Error(`cannot read the partition key ${attribute} from the key condition "${query.KeyConditionExpression}"`);
};

/** The partition keys of a batch's requests for one table. */
const batchKeys = (operation: string, requests: unknown): string[] => {
  if (operation === 'BatchGetItem') return z.looseObject({ Keys: z.array(wireItem) }).parse(requests).Keys.map(partitionKeyOf);
  return z
    .array(z.looseObject({ PutRequest: z.looseObject({ Item: wireItem }).optional(), DeleteRequest: z.looseObject({ Key: wireItem }).optional() }))
    .parse(requests)
    .map((request) => partitionKeyOf(request.PutRequest?.Item ?? request.DeleteRequest?.Key));
};

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const xmlText = (text: string) =>
  text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (entity, name: string) =>
    name.startsWith('#x') || name.startsWith('#X')
      ? String.fromCodePoint(parseInt(name.slice(2), 16))
      : name.startsWith('#')
        ? String.fromCodePoint(Number(name.slice(1)))
        : (XML_ENTITIES[name] ?? entity),
  );

/**
 * An S3 REST call (path-style, as the SDK addresses a loopback endpoint) as IAM authorises it: ListObjectsV2
 * as s3:ListBucket on the bucket with its `s3:prefix`, DeleteObjects as s3:DeleteObject on each key, and
 * the single-object calls on the object. Anything else is refused rather than guessed.
 */
const s3Permissions = (call: Pick<RecordedCall, 'method' | 'path' | 'text'>): RequiredPermission[] => {
  const url = new URL(call.path, 'http://s3.invalid');
  const [bucket = '', ...keyParts] = url.pathname.slice(1).split('/');
  const bucketArn = `arn:aws:s3:::${decodeURIComponent(bucket)}`;
  const key = keyParts.map(decodeURIComponent).join('/');
  const query = url.searchParams;
  if (bucket && !key && call.method === 'GET' && query.get('list-type') === '2') {
    const prefix = query.get('prefix');
    return [{ action: 's3:ListBucket', resource: bucketArn, context: prefix === null ? {} : { 's3:prefix': prefix } }];
  }
  if (bucket && !key && call.method === 'POST' && query.has('delete')) {
    const keys = [...(call.text ?? '').matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => xmlText(match[1] ?? ''));
    if (keys.length === 0) throw new Error(`DeleteObjects ${call.path} names no key`);
    return keys.map((objectKey) => ({ action: 's3:DeleteObject', resource: `${bucketArn}/${objectKey}` }));
  }
  const objectActions: Record<string, string> = { GET: 's3:GetObject', HEAD: 's3:GetObject', PUT: 's3:PutObject', DELETE: 's3:DeleteObject' };
  const action = objectActions[call.method];
  if (bucket && key && action && [...query.keys()].every((name) => name === 'x-id')) return [{ action, resource: `${bucketArn}/${key}` }];
  throw new Error(`the S3 call ${call.method} ${call.path} is not modelled by this check`);
};

/**
 * The permissions a call needs, as AWS's service authorization reference states them: a DynamoDB batch is
 * authorised as its single action, a transaction as each of its items, a query on an index against the
 * index's ARN; an SQS batch as its single action; GetSecretValue against the secret's full ARN; S3 as above;
 * ECS's RunTask with the roles it passes.
 */
export const requiredPermissions = (
  call: Pick<RecordedCall, 'service' | 'operation' | 'body' | 'method' | 'path' | 'text'>,
  arns: ArnResolver,
): RequiredPermission[] => {
  if (call.service === 's3') return s3Permissions(call);
  if (call.service === 'ecs') return ecsPermissions(call, arns);
  if (call.service === 'lambda') {
    const name = LAMBDA_INVOKE_PATH.exec(call.path)?.[1];
    if (!name || !arns.functionArn) throw new Error(`a Lambda call this contract does not know: ${call.method} ${call.path}`);
    return [{ action: 'lambda:InvokeFunction', resource: arns.functionArn(decodeURIComponent(name)) }];
  }
  if (call.service === 'secretsmanager') {
    const { SecretId } = z.looseObject({ SecretId: z.string() }).parse(call.body);
    return [{ action: `secretsmanager:${call.operation}`, resource: arns.secretArn(SecretId) }];
  }
  if (call.service === 'sqs') {
    const { QueueUrl } = z.looseObject({ QueueUrl: z.string() }).parse(call.body);
    return [{ action: `sqs:${SQS_BATCH_ACTIONS[call.operation] ?? call.operation}`, resource: arns.queueArn(QueueUrl) }];
  }
  const { tableArn } = arns;
  const leading = (keys: readonly string[]): RequestContext => ({ [LEADING_KEYS]: keys });
  switch (call.operation) {
    case 'BatchWriteItem':
    case 'BatchGetItem':
      return Object.entries(z.looseObject({ RequestItems: z.record(z.string(), z.unknown()) }).parse(call.body).RequestItems).map(([table, requests]) => ({
        action: `dynamodb:${call.operation}`,
        resource: tableArn(table),
        context: leading(batchKeys(call.operation, requests)),
      }));
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return z
        .looseObject({ TransactItems: z.array(z.record(z.string(), transactTarget)) })
        .parse(call.body)
        .TransactItems.flatMap((item) =>
          Object.entries(item).map(([kind, target]) => ({
            action: `dynamodb:${TRANSACT_ACTIONS[kind] ?? kind}`,
            resource: tableArn(target.TableName),
            context: leading([partitionKeyOf(target.Key ?? target.Item)]),
          })),
        );
    case 'Query': {
      const query = z
        .looseObject({
          TableName: z.string(),
          IndexName: z.string().optional(),
          KeyConditionExpression: z.string(),
          ExpressionAttributeNames: z.record(z.string(), z.string()).optional(),
          ExpressionAttributeValues: z.record(z.string(), wireValue),
        })
        .parse(call.body);
      const index = query.IndexName;
      return [
        {
          action: 'dynamodb:Query',
          resource: index ? `${tableArn(query.TableName)}/index/${index}` : tableArn(query.TableName),
          context: leading([queriedPartition(query, index === undefined ? tableSchema.partitionKey : indexPartitionKey(index))]),
        },
      ];
    }
    default: {
      const { TableName, IndexName, Key, Item } = named.extend({ Key: wireItem.optional(), Item: wireItem.optional() }).parse(call.body);
      const keyed = Key ?? Item;
      return [
        {
          action: `dynamodb:${call.operation}`,
          resource: IndexName ? `${tableArn(TableName)}/index/${IndexName}` : tableArn(TableName),
          ...(keyed ? { context: leading([partitionKeyOf(keyed)]) } : {}),
        },
      ];
    }
  }
};
