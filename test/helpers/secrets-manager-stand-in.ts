/**
 * A Secrets Manager stand-in on a free loopback port, speaking the service's JSON protocol (awsJson1.1, as
 * the SDK's SecretsManagerClient sends it when AWS_ENDPOINT_URL_SECRETS_MANAGER points here) for the one
 * operation the handlers call, GetSecretValue. Secrets are created as an operator creates them before a
 * deployment: by name, with a JSON value; each gets an ARN with the six random characters Secrets Manager
 * appends, and is found by name, by that full ARN or by the partial ARN without them, as AWS finds it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { z } from 'zod';

export interface StoredSecret {
  readonly name: string;
  /** The full ARN: `arn:aws:secretsmanager:<region>:<account>:secret:<name>-XXXXXX`. */
  readonly arn: string;
  readonly secretString: string;
  readonly versionId: string;
  readonly createdAt: Date;
}

const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const requestSchema = z.looseObject({ SecretId: z.string().min(1), VersionId: z.string().optional(), VersionStage: z.string().optional() });

export class SecretsManagerStandIn {
  private readonly secrets: StoredSecret[] = [];

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
    private readonly region: string,
    private readonly account: string,
  ) {}

  static async start(options: { readonly region: string; readonly account: string }): Promise<SecretsManagerStandIn> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const standIn = new SecretsManagerStandIn(server, `http://127.0.0.1:${port}`, options.region, options.account);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      standIn.handle(request, response).catch((error: unknown) => standIn.fail(response, 500, 'InternalServiceError', String(error)));
    });
    return standIn;
  }

  /** `aws secretsmanager create-secret --name NAME --secret-string VALUE`. */
  createSecret(name: string, value: Readonly<Record<string, string>>): StoredSecret {
    if (this.secrets.some((secret) => secret.name === name)) throw new Error(`the stand-in already has a secret "${name}"`);
    const suffix = Array.from(randomBytes(6), (byte) => SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length]).join('');
    const secret: StoredSecret = {
      name,
      arn: `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${suffix}`,
      secretString: JSON.stringify(value),
      versionId: randomUUID(),
      createdAt: new Date(),
    };
    this.secrets.push(secret);
    return secret;
  }

  /** The secret a SecretId names: its name, its full ARN, or its ARN without the random suffix. */
  find(secretId: string): StoredSecret | undefined {
    return this.secrets.find((secret) => secret.name === secretId || secret.arn === secretId || secret.arn.slice(0, -7) === secretId);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private fail(response: ServerResponse, status: number, type: string, message: string): void {
    if (response.headersSent) {
      response.end();
      return;
    }
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type, 'x-amzn-requestid': randomUUID() });
    response.end(JSON.stringify({ __type: type, message }));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await text(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    if (request.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
      return this.fail(response, 400, 'UnknownOperationException', `the stand-in serves GetSecretValue only, not ${target || request.method}`);
    }
    const parsed = requestSchema.safeParse(JSON.parse(body || '{}'));
    if (!parsed.success) return this.fail(response, 400, 'InvalidParameterException', 'SecretId is required');
    const secret = this.find(parsed.data.SecretId);
    if (!secret) return this.fail(response, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    response.end(
      JSON.stringify({
        ARN: secret.arn,
        Name: secret.name,
        VersionId: secret.versionId,
        SecretString: secret.secretString,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.createdAt.getTime() / 1000,
      }),
    );
  }
}
