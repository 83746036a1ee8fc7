/**
 * The names a deployment is found by: the stack's default name and its outputs. The stack writes them and the
 * CLI (lib/cli/target.ts) reads them; declared here, beside the stack, with no CDK import, so the CLI can
 * read them without loading the CDK and the stack never imports the CLI.
 */
export const DEFAULT_STACK = 'BlastTaskRunners';

/** Where a deployment keeps what the CLI needs (the stack's outputs). */
export const StackOutput = {
  TableName: 'TableName',
  TaskQueueUrls: 'TaskQueueUrls',
  DeadLetterQueueUrls: 'DeadLetterQueueUrls',
  DashboardUrl: 'DashboardUrl',
} as const;

/** Where a deployment with the web view says where it is (docs/deploying.md: The web view). */
export const WebViewOutput = {
  /** The page. */
  SiteUrl: 'WebSiteUrl',
  /** The page's API, which answers only with a token of the web view's user pool. */
  ApiUrl: 'WebApiUrl',
  /** The web view's Cognito user pool, where an administrator creates its users. */
  UserPoolId: 'WebUserPoolId',
} as const;
