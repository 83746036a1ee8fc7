/**
 * The web view on AWS (docs/deploying.md: The web view), never public by default:
 * - the **site**: the page's prebuilt files in a private bucket (no public access, TLS only, encrypted, owner
 *   enforced) that only CloudFront reads, through Origin Access Control, with security headers on every answer and
 *   a `config.json` written at deploy time (lib/web/contract.ts WebConfig: the API's URL and how to sign in);
 * - the **API**: the web API's function behind an HTTP API whose every route needs a token of the user pool
 *   (a JWT authorizer: issuer the pool, audience its app client), CORS open to the site's origin only, throttled,
 *   access-logged; the function holds only the grants of the operations it runs;
 * - **sign-in**: a Cognito user pool (no self sign-up, strong passwords, TOTP MFA required, threat protection), an
 *   app client for the site (authorization code with PKCE, no secret), its hosted UI's domain and the group whose
 *   members may use the controls (OPERATORS_GROUP; the API checks the `cognito:groups` claim).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, type CfnElement, DefaultStackSynthesizer, Duration, Lazy, Stack, Token, Validations } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, CorsHttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  OAuthScope,
  StandardThreatProtectionMode,
  UserPool,
  UserPoolClient,
  UserPoolClientIdentityProvider,
  UserPoolDomain,
  UserPoolGroup,
} from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { PRIVATE_BUCKET } from './private-bucket';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../settings/config';
import { OPERATORS_GROUP, contentSecurityPolicy, webApiSettings, webApiThrottle } from '../settings/web-view';
import { WEB_API_STORE_USE } from '../engine/store-use';
import { ServiceName } from '../engine/telemetry';
import type { WebConfig } from '../web/contract';
import { HandlerFunction, ownLogsAndRole, type QueueAction } from './handler-function';

/** The web API's Lambda entry, relative to the project root. */
export const WEB_API_ENTRY = 'functions/web-api.ts';
/** Where the page finds its settings (lib/web/contract.ts WebConfig), next to index.html. */
export const WEB_CONFIG_FILE = 'config.json';
/** The methods the API answers: reads are GET, the controls POST; API Gateway answers CORS preflights itself. */
export const WEB_API_METHODS = [HttpMethod.GET, HttpMethod.POST] as const;
/** What a control sends and the views read of a runner's queues (depth, age) and dead-letter queues. */
const QUEUE_ACTIONS: readonly QueueAction[] = ['SendMessage', 'GetQueueAttributes'];
const DEAD_LETTER_QUEUE_ACTIONS: readonly QueueAction[] = ['GetQueueAttributes'];
/** A Cognito domain prefix: lowercase letters, digits and hyphens, not naming AWS (Cognito refuses those). */
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const RESERVED_IN_PREFIX = /aws|amazon|cognito/;
/** The context key that changes the bootstrap's qualifier, which names the CDK's asset bucket. */
const BOOTSTRAP_QUALIFIER_CONTEXT = '@aws-cdk/core:bootstrapQualifier';
/** The id the CDK gives its bucket deployment's function, at the top of the stack. */
const BUCKET_DEPLOYMENT_HANDLER = 'Custom::CDKBucketDeployment';

export interface WebConsoleProps {
  /** The task table the API reads and the controls write. */
  readonly table: ITable;
  /** The fixture files' folder on this machine. */
  readonly fixturesDir: string;
  /** A folder of the page's prebuilt files, with index.html at its top (the output of lib/web/bundle.ts bundleWebApp). */
  readonly siteDir: string;
  /** The API's Lambda entry, relative to the project root. @default WEB_API_ENTRY */
  readonly apiEntry?: string;
  /**
   * The prefix of the hosted UI's domain (`<prefix>.auth.<region>.amazoncognito.com`), unique in the region.
   * @default the stack's name in lowercase, then the account id
   */
  readonly domainPrefix?: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

export class WebConsole extends Construct {
  readonly siteBucket: Bucket;
  readonly distribution: Distribution;
  readonly headers: ResponseHeadersPolicy;
  /** `https://<distribution domain>`: the site's origin, the only one CORS lets call the API. */
  readonly siteUrl: string;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly authorizer: HttpUserPoolAuthorizer;
  readonly handler: HandlerFunction;
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  readonly domain: UserPoolDomain;
  readonly operators: UserPoolGroup;
  readonly deployment: BucketDeployment;
  private readonly queueUrls: Record<string, string> = {};
  private readonly deadLetterQueueUrls: Record<string, string> = {};
  /** The items the controls may reach: every watched task's ready markers (a reset can make any of them ready) and dead letters. */
  private readonly scope = { ready: [] as string[], deadLetter: [] as string[] };
  private queueStatements?: { readonly queues: PolicyStatement; readonly deadLetterQueues: PolicyStatement };

  constructor(scope: Construct, id: string, props: WebConsoleProps) {
    super(scope, id);
    const index = join(props.siteDir, 'index.html');
    if (!existsSync(index) || !statSync(index).isFile()) {
      throw new Error(`${this.node.path}: siteDir "${props.siteDir}" has no index.html; build the page first (lib/web/bundle.ts bundleWebApp)`);
    }
    const stack = Stack.of(this);
    const domainPrefix = props.domainPrefix ?? defaultDomainPrefix(stack.stackName);
    if (!Token.isUnresolved(domainPrefix) && (!DOMAIN_PREFIX.test(domainPrefix) || RESERVED_IN_PREFIX.test(domainPrefix))) {
      throw new Error(
        `${this.node.path}: domainPrefix "${domainPrefix}" is not a Cognito domain prefix (lowercase letters, digits and inner hyphens, at most 63, without "aws", "amazon" or "cognito")`,
      );
    }

    // Sign-in: only the people an administrator creates, each with a strong password and an authenticator app.
    this.userPool = new UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      passwordPolicy: { minLength: 14, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true, tempPasswordValidity: Duration.days(3) },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      // Compromised-credential checks and adaptive authentication, enforced (priced per monthly active user).
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
    });
    this.operators = new UserPoolGroup(this, 'Operators', {
      userPool: this.userPool,
      groupName: OPERATORS_GROUP,
      description: 'May use the web view\'s controls: retrigger, reprocess, redrive',
    });
    this.domain = this.userPool.addDomain('SignIn', { cognitoDomain: { domainPrefix } });

    // The site: a private bucket that only this distribution reads.
    this.siteBucket = new Bucket(this, 'Site', PRIVATE_BUCKET);
    Validations.of(this.siteBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The bucket holds only the page\'s static files, the same for every visitor and rewritten on each deploy; only CloudFront reads it (Origin Access Control). Every data request is logged where the data is, in the API\'s access log.',
    });

    // connect-src: the page calls itself, the sign-in's token endpoint and its API. The API is named by its region's
    // host pattern, not its own id: the API's CORS names the distribution, so the distribution's headers cannot name
    // the API back (CloudFormation allows no cycle); CORS and the JWT authorizer are what confine the API.
    const signInOrigin = this.domain.baseUrl();
    this.headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Blast web view: CSP, HSTS, no sniffing, no framing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: contentSecurityPolicy({ api: `https://*.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`, signIn: signInOrigin }),
          override: true,
        },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, preload: false, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: `Blast web view (${stack.stackName})`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.siteBucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headers,
        compress: true,
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      enableIpv6: true,
    });
    this.siteUrl = `https://${this.distribution.distributionDomainName}`;
    const distributionReasons: Record<string, string> = {
      'AwsSolutions-CFR1': 'The web view is for the project\'s own operators and astronomers, wherever they are; sign-in, not geography, decides who sees data.',
      'AwsSolutions-CFR2':
        'The distribution serves only static files (no data, no form); the API behind it refuses every request without a token of the user pool, and API Gateway throttles it. A web ACL can be added for a deployment that wants one.',
      'AwsSolutions-CFR3':
        'The files served are the same static page for everyone; CloudFront standard logging needs a bucket with ACLs enabled. Who reads data is in the API\'s access log, with the caller.',
      'AwsSolutions-CFR4':
        'The distribution uses CloudFront\'s own *.cloudfront.net certificate (no custom domain, so no certificate of ours to set a TLS policy on); browsers negotiate TLS 1.2 or 1.3 with it.',
    };
    for (const [rule, reason] of Object.entries(distributionReasons)) Validations.of(this.distribution).acknowledge({ id: rule, reason });

    // The site's app client: authorization code with PKCE for a browser (no secret), back to the site only.
    this.client = this.userPool.addClient('Site', {
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [`${this.siteUrl}/`],
        logoutUrls: [`${this.siteUrl}/`],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });

    // The API: the function, behind routes that all need a token of the pool for the site's client.
    this.handler = new HandlerFunction(this, 'Handler', {
      entry: props.apiEntry ?? WEB_API_ENTRY,
      serviceName: ServiceName.WebApi,
      description: 'Blast web view API: transients, runners and dead letters, and the operators\' controls',
      settings: webApiSettings,
      table: props.table,
      fixturesDir: props.fixturesDir,
      logRetention: props.logRetention,
      environment: {
        [ENV.queueUrls]: Lazy.string({ produce: () => stack.toJsonString(this.queueUrls) }),
        [ENV.deadLetterQueueUrls]: Lazy.string({ produce: () => stack.toJsonString(this.deadLetterQueueUrls) }),
      },
    });
    this.handler.grantStore(props.table, WEB_API_STORE_USE, this.scope);

    this.authorizer = new HttpUserPoolAuthorizer('SiteUsers', this.userPool, { userPoolClients: [this.client] });
    this.api = new HttpApi(this, 'Api', {
      description: `Blast web view API (${stack.stackName})`,
      createDefaultStage: false,
      defaultAuthorizer: this.authorizer,
      corsPreflight: {
        allowOrigins: [this.siteUrl],
        allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.OPTIONS],
        allowHeaders: ['authorization', 'content-type'],
        maxAge: Duration.hours(1),
      },
    });
    this.api.addRoutes({
      path: '/{proxy+}',
      methods: [...WEB_API_METHODS],
      integration: new HttpLambdaIntegration('Handler', this.handler.function),
      authorizer: this.authorizer,
    });
    const accessLog = new LogGroup(this, 'AccessLog', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: webApiThrottle.rateLimit, burstLimit: webApiThrottle.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLog),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            status: '$context.status',
            caller: '$context.authorizer.claims.sub',
            authorizerError: '$context.authorizer.error',
            latencyMs: '$context.responseLatency',
            sourceIp: '$context.identity.sourceIp',
          }),
        ),
      },
    });
    Validations.of(this.stage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every route needs a token of the user pool (JWT authorizer) and the stage is throttled; Cognito\'s threat protection guards the sign-in. HTTP APIs cannot be associated with a web ACL.',
    });

    // config.json: where the page's API is and how it signs in, known only at deploy time.
    const config: WebConfig = {
      apiUrl: this.api.apiEndpoint,
      auth: { region: stack.region, userPoolId: this.userPool.userPoolId, clientId: this.client.userPoolClientId, domain: `${this.domain.domainName}.auth.${stack.region}.amazoncognito.com` },
    };
    const deployer = ownLogsAndRole(new Construct(this, 'Deployer'), 'Blast web view: copies the page\'s files to the site bucket', props.logRetention);
    this.deployment = new BucketDeployment(this, 'Files', {
      sources: [Source.asset(props.siteDir), Source.jsonData(WEB_CONFIG_FILE, config)],
      destinationBucket: this.siteBucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      role: deployer.role,
      logGroup: deployer.logGroup,
    });
    acknowledgeDeployer(this.deployment, deployer.role, this.siteBucket);
  }

  /** Lets the API show `task`'s queue and dead letters and lets its controls send to it and reach its ready markers and dead letters. */
  watch(task: string, queue: IQueue, deadLetterQueue: IQueue): void {
    this.queueUrls[task] = queue.queueUrl;
    this.deadLetterQueueUrls[task] = deadLetterQueue.queueUrl;
    this.scope.ready.push(task);
    this.scope.deadLetter.push(task);
    // One statement for the queues and one for the dead-letter queues, however many runners: the policy stays small.
    if (this.queueStatements) {
      this.queueStatements.queues.addResources(queue.queueArn);
      this.queueStatements.deadLetterQueues.addResources(deadLetterQueue.queueArn);
    } else {
      const queues = this.handler.grantQueues([queue], QUEUE_ACTIONS);
      const deadLetterQueues = this.handler.grantQueues([deadLetterQueue], DEAD_LETTER_QUEUE_ACTIONS);
      if (queues && deadLetterQueues) this.queueStatements = { queues, deadLetterQueues };
    }
  }
}

/** `<stack name>-<account id>` in the characters a Cognito domain prefix allows. */
const defaultDomainPrefix = (stackName: string): string => {
  const name = stackName.toLowerCase().replace(new RegExp(RESERVED_IN_PREFIX.source, 'g'), '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'blast';
  return `${name}-${Aws.ACCOUNT_ID}`;
};

/**
 * The grants the CDK's bucket deployment gives its function (the CDK's own code, one per stack), each acknowledged
 * with why it is acceptable: it reads the page's asset from the CDK's asset bucket, replaces every file of the site
 * bucket, and invalidates the distribution's cache.
 */
const acknowledgeDeployer = (deployment: BucketDeployment, role: Construct, siteBucket: Bucket): void => {
  const stack = Stack.of(deployment);
  const qualifier = (stack.node.tryGetContext(BOOTSTRAP_QUALIFIER_CONTEXT) as string | undefined) ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
  const siteBucketId = stack.getLogicalId(siteBucket.node.defaultChild as CfnElement);
  const copies = 'The CDK\'s bucket deployment copies the page\'s files: it reads the asset objects it is given from the CDK\'s asset bucket and writes, lists and deletes objects of the site bucket, whose keys are the page\'s file names.';
  const findings: Record<string, string> = {
    'Action::s3:GetObject*': copies,
    'Action::s3:GetBucket*': copies,
    'Action::s3:List*': copies,
    'Action::s3:DeleteObject*': `${copies} Pruning deletes the files a new page no longer has.`,
    'Action::s3:Abort*': `${copies} Large files are uploaded in parts, which a failed copy aborts.`,
    [`Resource::<${siteBucketId}.Arn>/*`]: `${copies} The object wildcard is the site bucket's, which holds nothing but the page.`,
    [`Resource::arn:<AWS::Partition>:s3:::cdk-${qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*`]:
      'The page\'s files arrive as a CDK asset in the bootstrap\'s asset bucket, under a key known only once the asset is published; the deployment reads them from there.',
    'Resource::*':
      'The CDK grants its deployment CloudFront\'s CreateInvalidation and GetInvalidation on any distribution; it invalidates only the one it is given, the site\'s, so that a new page is served at once. An invalidation changes no content.',
  };
  for (const [finding, reason] of Object.entries(findings)) Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  // The function itself is the stack's singleton, beside the deployment rather than under it.
  for (const handler of stack.node.children.filter((child) => child.node.id.startsWith(BUCKET_DEPLOYMENT_HANDLER))) {
    Validations.of(handler).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'The CDK\'s bucket deployment function runs the Python runtime its aws-cdk-lib release was built and tested for; it moves on with aws-cdk-lib, not with this project.',
    });
  }
};
