/**
 * The web view as the stack deploys it (lib/constructs/web-console.ts), never public by default: every route of
 * the API needs a token of the web view's user pool, CORS lets only the site call it, the site's bucket is private
 * behind CloudFront's Origin Access Control, every answer carries the security headers, and the API's function
 * holds only the grants of the operations it runs.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { registry } from '../../runners/registry';
import { SystemTaskName } from '../../runners/system-tasks';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function';
import { WEB_API_ENTRY, WEB_CONFIG_FILE } from '../../lib/constructs/web-console';
import { ENV } from '../../lib/settings/config';
import { OPERATORS_GROUP, webApiThrottle } from '../../lib/settings/web-view';
import { StackOutput, WebViewOutput } from '../../lib/stacks/outputs';
import { AppContext, addTaskRunners } from '../../lib/stacks/task-runners-app';
import { keys } from '../../lib/store/dynamodb';
import type { RecordedCall } from '../helpers/aws-call-recorder';
import { allows, grantLines, grantsOf, itemGrantLines, requiredPermissions } from '../helpers/iam';
import { arnOf, logicalId, refOf, synthStack } from '../helpers/stack';
import { placeholders, resolveIntrinsics, resolvedJson, resource, resourcesOfType } from '../helpers/template';

const siteWith = (files: Record<string, string>): string => {
  const dir = mkdtempSync(join(tmpdir(), 'blast-site-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};
const siteDir = siteWith({ 'index.html': '<!doctype html><title>Blast</title><script type="module" src="app.js"></script>', 'app.js': 'export {};' });
// The template does not depend on the handler's code (nothing is bundled here): until functions/web-api.ts is on
// main, the dispatcher's entry stands in for it.
const apiEntry = existsSync(join(PROJECT_ROOT, WEB_API_ENTRY)) ? WEB_API_ENTRY : 'functions/dispatcher.ts';
const { stack, template, json } = synthStack(registry, { webView: { siteDir, apiEntry } });
const web = stack.webConsole ?? (() => { throw new Error('the stack has no web view'); })();
const fn = logicalId(web.handler.function);
const { table } = stack.table;
const tasks = stack.transientRunners.map((built) => built.taskName);
const resolved = (value: unknown) => resolveIntrinsics(value, placeholders);
const siteOrigin = `https://<${logicalId(web.distribution)}.DomainName>`;
const apiEndpoint = `<${logicalId(web.api)}.ApiEndpoint>`;

describe('Web view: the API refuses whoever has no token of the user pool', () => {
  it('puts the JWT authorizer on every route, and has no route without one', () => {
    // Act
    const routes = resourcesOfType(json, 'AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties ?? {});

    // Assess
    expect(routes.map((route) => route.RouteKey).sort()).toEqual(['GET /{proxy+}', 'POST /{proxy+}']);
    for (const route of routes) {
      expect(route.AuthorizationType, String(route.RouteKey)).toBe('JWT');
      expect(resolved(route.AuthorizerId), String(route.RouteKey)).toBe(`<Ref:${resourcesOfType(json, 'AWS::ApiGatewayV2::Authorizer')[0]?.[0]}>`);
    }
    expect(routes.filter((route) => route.AuthorizationType === undefined || route.AuthorizationType === 'NONE')).toEqual([]);
  });

  it('accepts only tokens the user pool issued for the site\'s app client, from the Authorization header', () => {
    const authorizers = resourcesOfType(json, 'AWS::ApiGatewayV2::Authorizer').map(([, authorizer]) => resolved(authorizer.Properties));
    expect(authorizers).toEqual([
      expect.objectContaining({
        ApiId: refOf(web.api),
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: {
          Issuer: `https://cognito-idp.<Ref:AWS::Region>.amazonaws.com/${refOf(web.userPool)}`,
          Audience: [refOf(web.client)],
        },
      }),
    ]);
  });

  it('lets only the site\'s origin call it from a browser (CORS), with the token header and the methods the page uses', () => {
    const cors = resolved(resource(json, logicalId(web.api)).Properties?.CorsConfiguration) as Record<string, unknown>;
    expect(cors.AllowOrigins).toEqual([siteOrigin]);
    expect(cors.AllowCredentials).toBeUndefined();
    expect(cors.AllowHeaders).toEqual(['authorization', 'content-type']);
    expect(cors.AllowMethods).toEqual(['GET', 'POST', 'OPTIONS']);
  });

  it('is throttled and access-logged with the caller', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: webApiThrottle.rateLimit, ThrottlingBurstLimit: webApiThrottle.burstLimit },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('\\$context\\.authorizer\\.claims\\.sub') },
    });
  });
});

describe('Web view: sign-in', () => {
  it('lets in only users an administrator creates, with a strong password and an authenticator app, with threat protection', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 14, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true }) },
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
  });

  it('gives the site an app client without a secret, for the authorization code flow back to the site only', () => {
    const client = resolved(resource(json, logicalId(web.client)).Properties) as Record<string, unknown>;
    expect(client).toEqual(
      expect.objectContaining({
        GenerateSecret: false,
        AllowedOAuthFlows: ['code'],
        AllowedOAuthFlowsUserPoolClient: true,
        CallbackURLs: [`${siteOrigin}/`],
        LogoutURLs: [`${siteOrigin}/`],
        SupportedIdentityProviders: ['COGNITO'],
        PreventUserExistenceErrors: 'ENABLED',
      }),
    );
    expect(client.ExplicitAuthFlows ?? []).toEqual(expect.not.arrayContaining(['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH']));
  });

  it(`has the hosted UI's domain and the "${OPERATORS_GROUP}" group`, () => {
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: OPERATORS_GROUP, UserPoolId: { Ref: logicalId(web.userPool) } });
  });
});

describe('Web view: the site', () => {
  it('keeps the files in a private, encrypted, TLS-only bucket that only the distribution reads', () => {
    const bucket = resource(json, logicalId(web.siteBucket)).Properties ?? {};
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(bucket.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(bucket.WebsiteConfiguration).toBeUndefined();

    // The bucket policy: TLS only, and reading allowed to CloudFront for this distribution alone.
    const [policy] = resourcesOfType(json, 'AWS::S3::BucketPolicy').filter(([, candidate]) => resolved(candidate.Properties?.Bucket) === refOf(web.siteBucket));
    const statements = (resolved(policy?.[1].Properties?.PolicyDocument) as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    const allowed = statements.filter((statement) => statement.Effect === 'Allow');
    expect(allowed).toEqual([
      expect.objectContaining({
        Action: 's3:GetObject',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Condition: { StringEquals: { 'AWS:SourceArn': expect.stringContaining(refOf(web.distribution)) } },
      }),
    ]);
  });

  it('serves them over HTTPS through Origin Access Control, index.html at the root, with the security headers', () => {
    const config = resolved(resource(json, logicalId(web.distribution)).Properties?.DistributionConfig) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.Origins).toEqual([expect.objectContaining({ OriginAccessControlId: expect.stringMatching(/OriginAccessControl/), S3OriginConfig: { OriginAccessIdentity: '' } })]);
    expect(config.DefaultCacheBehavior).toEqual(
      expect.objectContaining({ ViewerProtocolPolicy: 'redirect-to-https', AllowedMethods: ['GET', 'HEAD'], ResponseHeadersPolicyId: refOf(web.headers) }),
    );
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
  });

  it('sets HSTS, no sniffing, no framing, no referrer, and a CSP that lets the page call only itself, the API and the sign-in', () => {
    // Act
    const headers = resolved(resource(json, logicalId(web.headers)).Properties?.ResponseHeadersPolicyConfig) as { SecurityHeadersConfig: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    const security = headers.SecurityHeadersConfig;
    const csp = new Map<string, string[]>(
      String(security.ContentSecurityPolicy.ContentSecurityPolicy)
        .split(';')
        .map((directive) => directive.trim().split(/\s+/))
        .map(([name, ...sources]) => [name ?? '', sources]),
    );

    // Assess
    expect(security.StrictTransportSecurity).toEqual(expect.objectContaining({ AccessControlMaxAgeSec: 31_536_000, IncludeSubdomains: true, Override: true }));
    expect(security.ContentTypeOptions).toEqual({ Override: true });
    expect(security.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(security.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
    expect(security.ContentSecurityPolicy.Override).toBe(true);
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('connect-src')).toEqual([
      "'self'",
      'https://*.execute-api.<Ref:AWS::Region>.<Ref:AWS::URLSuffix>',
      `https://${refOf(web.domain)}.auth.<Ref:AWS::Region>.amazoncognito.com`,
    ]);
    for (const sources of csp.values()) expect(sources).not.toContain("'unsafe-inline'");
  });

  it(`writes ${WEB_CONFIG_FILE} at deploy time beside the page's files: the API's URL and the sign-in's settings`, () => {
    // Prepare: the deployment's sources are the page's folder and the config, whose deploy-time values are markers
    const [, deployment] = resourcesOfType(json, 'Custom::CDKBucketDeployment')[0] ?? [];
    const props = resolved(deployment?.Properties) as { SourceObjectKeys: unknown[]; SourceMarkers: Record<string, string>[]; DestinationBucketName: string; DistributionId: string; Prune?: boolean };

    // Assess
    expect(props.SourceObjectKeys).toHaveLength(2);
    expect(props.DestinationBucketName).toBe(refOf(web.siteBucket));
    expect(props.DistributionId).toBe(refOf(web.distribution));
    const markerValues = props.SourceMarkers.flatMap((markers) => Object.values(markers));
    expect(markerValues).toEqual(
      expect.arrayContaining([
        apiEndpoint,
        refOf(web.userPool),
        refOf(web.client),
        refOf(web.domain),
      ]),
    );
  });

  it('refuses a site folder without index.html, and a hosted-UI prefix Cognito would refuse', () => {
    expect(() => synthStack(registry, { webView: { siteDir: siteWith({ 'app.js': '' }), apiEntry } })).toThrow(/has no index\.html/);
    expect(() => synthStack(registry, { webView: { siteDir, apiEntry, domainPrefix: 'My_Blast' } })).toThrow(/domainPrefix "My_Blast"/);
    expect(() => synthStack(registry, { webView: { siteDir, apiEntry, domainPrefix: 'blast-aws' } })).toThrow(/without "aws"/);
  });

  it('names the hosted UI\'s domain after the stack and the account, without the words Cognito refuses', () => {
    const named = synthStack(registry, { stackName: 'AWS-Blast-Cognito-Amazon-Prod', webView: { siteDir, apiEntry } });
    const [, domain] = resourcesOfType(named.json, 'AWS::Cognito::UserPoolDomain')[0] ?? [];
    expect(resolved(domain?.Properties?.Domain)).toBe('blast-prod-<Ref:AWS::AccountId>');
    expect(resolved(resourcesOfType(json, 'AWS::Cognito::UserPoolDomain')[0]?.[1].Properties?.Domain)).toBe('blasttest-<Ref:AWS::AccountId>');
  });
});

describe('Web view: the API\'s function holds only what its operations use', () => {
  const onItems = (actions: string[], patterns: string[], arn = arnOf(table)) => itemGrantLines(actions, arn, patterns);
  const line = (action: string, arns: readonly string[]) => arns.map((arn) => `${action} ${arn}`);

  it('reads transients and their run history, outputs, counts, dead letters and ready markers, resets registers with their ready markers, and sends to the runners\' queues', () => {
    expect(grantLines(grantsOf(json, fn))).toEqual(
      [
        ...line('logs:CreateLogStream', [arnOf(web.handler.logGroup)]),
        ...line('logs:PutLogEvents', [arnOf(web.handler.logGroup)]),
        ...line('sqs:SendMessage', stack.transientRunners.map((built) => arnOf(built.queue))),
        ...line('sqs:GetQueueAttributes', stack.transientRunners.flatMap((built) => [arnOf(built.queue), arnOf(built.deadLetterQueue)])),
        ...onItems(['BatchGetItem', 'GetItem', 'Query', 'UpdateItem'], ['T#*']),
        ...onItems(['Query'], ['processing#*', 'blocked#*', 'completed#*'], `${arnOf(table)}/index/byProcessingStatus`),
        ...onItems(['BatchGetItem', 'UpdateItem'], ['COUNTS#*']),
        ...onItems(['DeleteItem', 'Query'], tasks.map((task) => `DEAD#${task}`)),
        ...onItems(['BatchWriteItem', 'PutItem', 'Query'], tasks.map((task) => `READY#${task}#*`)),
      ].sort(),
    );
  });

  it('finds every runner\'s queue and dead-letter queue in its environment', () => {
    const variables = (resource(json, fn).Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(resolvedJson(variables[ENV.queueUrls])).toEqual(Object.fromEntries(stack.transientRunners.map((built) => [built.taskName, refOf(built.queue)])));
    expect(resolvedJson(variables[ENV.deadLetterQueueUrls])).toEqual(Object.fromEntries(stack.transientRunners.map((built) => [built.taskName, refOf(built.deadLetterQueue)])));
  });

  // Calls as the SDK sends them, checked against the policy in the template.
  const call = (operation: string, body: Record<string, unknown>): RecordedCall => ({ service: 'dynamodb', accessKeyId: 'test', operation, body, method: 'POST', path: '/' });
  const wire = (value: Record<string, unknown>) => marshall(value, { removeUndefinedValues: true });
  const allowed = (recorded: RecordedCall) => {
    const grants = grantsOf(json, fn);
    const arns = { tableArn: () => arnOf(table), queueArn: (url: string) => url, secretArn: (id: string) => id };
    return requiredPermissions(recorded, arns).every((need) => allows(grants, need.action, need.resource, need.context));
  };
  const [task] = tasks as [string];

  it('may not create or delete a transient, take a lock, file a dead letter or write a system runner\'s state', () => {
    expect(allowed(call('UpdateItem', { TableName: 'Tasks', Key: wire(keys.transient('2010H')), UpdateExpression: 'SET #a = :a', ExpressionAttributeNames: { '#a': 'a' }, ExpressionAttributeValues: wire({ ':a': 1 }) }))).toBe(true);
    expect(allowed(call('PutItem', { TableName: 'Tasks', Item: wire({ ...keys.transient('2026abc') }) }))).toBe(false);
    expect(allowed(call('DeleteItem', { TableName: 'Tasks', Key: wire(keys.transient('2010H')) }))).toBe(false);
    expect(allowed(call('PutItem', { TableName: 'Tasks', Item: wire({ ...keys.lock(task), owner: 'web', until: 0 }) }))).toBe(false);
    expect(allowed(call('PutItem', { TableName: 'Tasks', Item: wire({ ...keys.deadLetter(task, '2010H'), reason: 'x' }) }))).toBe(false);
    expect(allowed(call('PutItem', { TableName: 'Tasks', Item: wire({ ...keys.systemState(SystemTaskName.IngestMissedTnsTransients), state: {} }) }))).toBe(false);
  });

  it('may not send to a dead-letter queue, nor consume a queue', () => {
    const grants = grantsOf(json, fn);
    const [built] = stack.transientRunners;
    if (!built) throw new Error('no transient runner');
    expect(allows(grants, 'sqs:SendMessage', arnOf(built.queue))).toBe(true);
    expect(allows(grants, 'sqs:SendMessage', arnOf(built.deadLetterQueue))).toBe(false);
    expect(allows(grants, 'sqs:ReceiveMessage', arnOf(built.queue))).toBe(false);
    expect(allows(grants, 'sqs:DeleteMessage', arnOf(built.queue))).toBe(false);
  });
});

describe('Web view: outputs, and the stack without it', () => {
  it('says where the page, its API and its user pool are', () => {
    const outputs = json.Outputs ?? {};
    expect(resolved(outputs[WebViewOutput.SiteUrl]?.Value)).toBe(`${siteOrigin}/`);
    expect(resolved(outputs[WebViewOutput.ApiUrl]?.Value)).toBe(apiEndpoint);
    expect(resolved(outputs[WebViewOutput.UserPoolId]?.Value)).toBe(refOf(web.userPool));
  });

  it('is deployed by the app when `-c webSite=<folder of the page>` is given, with the API from functions/web-api.ts', () => {
    // Prepare: the app as bin/app.ts builds it, with the context `cdk deploy -c webSite=...` sets
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], [AppContext.webSite]: siteDir } });

    // Act + Assess: until the API's entry is on main, the construct asks for it by name
    if (existsSync(join(PROJECT_ROOT, WEB_API_ENTRY))) expect(addTaskRunners(app, registry).webConsole?.handler).toBeDefined();
    else expect(() => addTaskRunners(app, registry)).toThrow(/web-api\.ts/);
  });

  it('has no site, API or user pool, and only the CLI\'s outputs, when no web view is asked for', () => {
    const plain = synthStack(registry);
    for (const type of ['AWS::CloudFront::Distribution', 'AWS::ApiGatewayV2::Api', 'AWS::Cognito::UserPool', 'Custom::CDKBucketDeployment']) plain.template.resourceCountIs(type, 0);
    expect(Object.keys(plain.json.Outputs ?? {}).sort()).toEqual(Object.values(StackOutput).sort());
  });
});
