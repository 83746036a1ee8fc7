/**
 * The single DynamoDB table (lib/store/table.ts declares its shape for the stack and the local runtime
 * alike): on demand, with point-in-time recovery and the processing-status index.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tableSchema } from '../store/dynamodb/table';
import { TTL_ATTRIBUTE } from '../store/dynamodb';

export interface TaskTableProps {
  /** What happens to the table (every transient and register) when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class TaskTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: TaskTableProps = {}) {
    super(scope, id);
    const key = (name: string) => ({ name, type: AttributeType.STRING });
    this.table = new Table(this, 'Table', {
      partitionKey: key(tableSchema.partitionKey),
      sortKey: key(tableSchema.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      // Run-history records expire (HISTORY_RETENTION_DAYS); nothing else carries the attribute.
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: tableSchema.statusIndex.name,
      partitionKey: key(tableSchema.statusIndex.partitionKey),
      sortKey: key(tableSchema.statusIndex.sortKey),
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...tableSchema.statusIndex.projected],
    });
  }
}
