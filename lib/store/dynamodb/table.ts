/**
 * The table's shape, declared once: the stack builds it with CDK, the local runtime and the tests with
 * CreateTable. Keys are strings; the one index serves `list --status` and the counters' recount without a scan.
 */
/** The attribute the status index projects besides its keys: the counters' bucket, for the recount. */
const STATUS_INDEX_PROJECTED = ['cb'] as const;

export const tableSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Its keys and the counters' bucket (changed once per transient besides its status, when its first task finishes). */
  statusIndex: { name: 'byProcessingStatus', partitionKey: 'pst', sortKey: 'pts', projected: STATUS_INDEX_PROJECTED },
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
      Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...tableSchema.statusIndex.projected] },
    },
  ],
});
