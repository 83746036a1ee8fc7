/**
 * The table's shape, declared once: the stack builds it with CDK, the local runtime and the tests with
 * CreateTable. Keys are strings; the one index serves `list --status` without a scan.
 */
import { STATUS_INDEX } from './task-store';

export const tableSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  statusIndex: { name: STATUS_INDEX, partitionKey: 'pst', sortKey: 'pts' },
} as const;

/** CreateTable input for DynamoDB Local and the tests (on-demand, like the stack's table). */
export const createTableInput = (TableName: string) => ({
  TableName,
  BillingMode: 'PAY_PER_REQUEST' as const,
  AttributeDefinitions: [tableSchema.partitionKey, tableSchema.sortKey, tableSchema.statusIndex.partitionKey, tableSchema.statusIndex.sortKey].map(
    (AttributeName) => ({ AttributeName, AttributeType: 'S' as const }),
  ),
  KeySchema: [
    { AttributeName: tableSchema.partitionKey, KeyType: 'HASH' as const },
    { AttributeName: tableSchema.sortKey, KeyType: 'RANGE' as const },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: tableSchema.statusIndex.name,
      KeySchema: [
        { AttributeName: tableSchema.statusIndex.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: tableSchema.statusIndex.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' as const },
    },
  ],
});
