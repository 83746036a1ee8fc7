import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, CloudFormationServiceException, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { explainFailure } from '../../lib/cli/operator';
import { TransientFileError } from '../../lib/fixtures/transient-files';
import { type Target, localTarget, resolveTarget, targetFromOutputs } from '../../lib/cli/target';
import { DEFAULT_STACK } from '../../lib/stacks/outputs';

const cloudFormation = mockClient(CloudFormationClient);
const client = () => new CloudFormationClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

const outputs = [
  { OutputKey: 'TableName', OutputValue: 'BlastTaskRunners-Tasks' },
  { OutputKey: 'TaskQueueUrls', OutputValue: JSON.stringify({ 'Host match': 'https://sqs.eu-west-1.amazonaws.com/1/host-match' }) },
  { OutputKey: 'DeadLetterQueueUrls', OutputValue: JSON.stringify({ 'Host match': 'https://sqs.eu-west-1.amazonaws.com/1/host-match-dlq' }) },
  { OutputKey: 'DashboardUrl', OutputValue: 'https://console.aws.amazon.com/cloudwatch/home#dashboards:name=Blast' },
];

const missingFile = () => join(mkdtempSync(join(tmpdir(), 'state-')), 'endpoints.json');

describe('Function: targetFromOutputs', () => {
  it("reads the table, queues, dead-letter queues and dashboard from the stack's outputs", () => {
    const target = targetFromOutputs('BlastTaskRunners', 'eu-west-1', outputs);

    expect(target).toMatchObject({
      description: 'stack BlastTaskRunners in eu-west-1',
      local: false,
      tableName: 'BlastTaskRunners-Tasks',
      queueUrls: { 'Host match': 'https://sqs.eu-west-1.amazonaws.com/1/host-match' },
      deadLetterQueueUrls: { 'Host match': 'https://sqs.eu-west-1.amazonaws.com/1/host-match-dlq' },
      dashboardUrl: 'https://console.aws.amazon.com/cloudwatch/home#dashboards:name=Blast',
      dynamodb: { region: 'eu-west-1' },
    });
  });

  it.each([
    ['TableName', /has no output TableName/],
    ['TaskQueueUrls', /has no output TaskQueueUrls/],
    ['DeadLetterQueueUrls', /has no output DeadLetterQueueUrls/],
  ])('names a missing output %s', (key, message) => {
    expect(() => targetFromOutputs('Other', 'eu-west-1', outputs.filter((output) => output.OutputKey !== key))).toThrow(message);
  });

  it('refuses queue URLs that are not a JSON object of task → URL', () => {
    const bad = outputs.map((output) => (output.OutputKey === 'TaskQueueUrls' ? { ...output, OutputValue: '["a"]' } : output));
    expect(() => targetFromOutputs('BlastTaskRunners', 'eu-west-1', bad)).toThrow(/output TaskQueueUrls is not a JSON object of task name → URL/);
  });
});

describe('Function: resolveTarget', () => {
  beforeEach(() => cloudFormation.reset());

  it('uses the local runtime when its endpoints file exists and no stack is asked for', async () => {
    const stateFile = missingFile();
    writeFileSync(
      stateFile,
      JSON.stringify({
        dynamodbEndpoint: 'http://127.0.0.1:4100',
        sqsEndpoint: 'http://127.0.0.1:4200',
        region: 'us-east-1',
        tableName: 'blast-tasks',
        queues: { 'Host match': { url: 'http://127.0.0.1:4200/1/q', deadLetterUrl: 'http://127.0.0.1:4200/1/q-dlq' } },
      }),
    );

    const target = await resolveTarget({ stateFile, stateFileGiven: true }, client);

    expect(target).toMatchObject({
      local: true,
      tableName: 'blast-tasks',
      dynamodb: { endpoint: 'http://127.0.0.1:4100', region: 'us-east-1' },
      sqs: { endpoint: 'http://127.0.0.1:4200' },
      queueUrls: { 'Host match': 'http://127.0.0.1:4200/1/q' },
      deadLetterQueueUrls: { 'Host match': 'http://127.0.0.1:4200/1/q-dlq' },
    });
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });

  it('looks the default stack up when there is no local runtime', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: DEFAULT_STACK, StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: outputs }] });

    const target = await resolveTarget({ stateFile: missingFile(), stateFileGiven: false }, client);

    expect(target.description).toBe('stack BlastTaskRunners in eu-west-1');
    expect(cloudFormation.commandCalls(DescribeStacksCommand)[0]?.args[0].input).toEqual({ StackName: 'BlastTaskRunners' });
  });

  it('says in one line that neither a stack nor a local runtime was found', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(new CloudFormationServiceException({ name: 'ValidationError', $fault: 'client', $metadata: {}, message: 'Stack with id BlastTaskRunners does not exist' }));

    await expect(resolveTarget({ stateFile: '.nothing/endpoints.json', stateFileGiven: false }, client)).rejects.toThrow(
      'no stack found: stack "BlastTaskRunners" does not exist in eu-west-1; and no local runtime (.nothing/endpoints.json does not exist; start it with `npm start -- --keep-running --state-file .nothing/endpoints.json`)',
    );
  });

  it('goes to the stack named by --stack even when a local runtime is up', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(new CloudFormationServiceException({ name: 'ValidationError', $fault: 'client', $metadata: {}, message: 'Stack with id Staging does not exist' }));

    await expect(resolveTarget({ stateFile: missingFile(), stateFileGiven: false, stack: 'Staging' }, client)).rejects.toThrow(
      /^no stack found: stack "Staging" does not exist in eu-west-1$/,
    );
  });

  it('explains missing credentials', async () => {
    const error = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    cloudFormation.on(DescribeStacksCommand).rejects(error);

    await expect(resolveTarget({ stateFile: missingFile(), stateFileGiven: false, stack: 'BlastTaskRunners' }, client)).rejects.toThrow(
      'no stack found: no AWS credentials to look up stack "BlastTaskRunners" (set a profile or AWS_* variables)',
    );
  });

  it('fails at once when the named state file does not exist', async () => {
    await expect(resolveTarget({ stateFile: 'tmp/none.json', stateFileGiven: true }, client)).rejects.toThrow(
      'no local runtime: tmp/none.json does not exist; start it with `npm start -- --keep-running --state-file tmp/none.json`',
    );
  });

  it('refuses a file that is not an endpoints file', () => {
    const stateFile = missingFile();
    writeFileSync(stateFile, JSON.stringify({ tableName: 'x' }));
    expect(() => localTarget(stateFile)).toThrow(/is not a local runtime's endpoints file \(dynamodbEndpoint: /);
  });

  it('calls an endpoints file stale when the run that wrote it is gone (killed before it could remove it)', () => {
    // Prepare: the file as `start --keep-running` writes it, with the id of a process that has ended
    const stateFile = missingFile();
    const { pid } = spawnSync(process.execPath, ['-e', '']);
    const state = { dynamodbEndpoint: 'http://127.0.0.1:4100', sqsEndpoint: 'http://127.0.0.1:4101', region: 'us-east-1', tableName: 't', queues: {} };
    writeFileSync(stateFile, JSON.stringify({ ...state, pid }));

    // Act + Assess
    expect(() => localTarget(stateFile)).toThrow(
      `no local runtime: ${stateFile} is stale (the run that wrote it, process ${pid}, is gone); start it with \`npm start -- --keep-running --state-file ${stateFile}\``,
    );
    writeFileSync(stateFile, JSON.stringify({ ...state, pid: process.pid }));
    expect(localTarget(stateFile).tableName).toBe('t');
  });
});

describe('Function: explainFailure', () => {
  const local: Target = {
    description: 'the local runtime (.blast-local/endpoints.json)',
    local: true,
    stateFile: '.blast-local/endpoints.json',
    dynamodb: { region: 'us-east-1' },
    sqs: { region: 'us-east-1' },
    tableName: 'blast-tasks',
    queueUrls: {},
    deadLetterQueueUrls: {},
  };

  it('turns a refused connection to the local runtime into one line saying how to start it', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4100'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 4100 });

    expect(explainFailure(refused, local).message).toBe(
      'the local runtime is not running: connection refused at 127.0.0.1:4100 (endpoints from .blast-local/endpoints.json); start it with `npm start -- --keep-running`',
    );
  });

  it('names the table when it is missing, and passes other errors through', () => {
    const missing = Object.assign(new Error('Cannot do operations on a non-existent table'), { name: 'ResourceNotFoundException' });
    const other = new TypeError('boom');

    expect(explainFailure(missing, local).message).toMatch(/^table "blast-tasks" not found for the local runtime/);
    expect(explainFailure(other, local)).toBe(other);
  });

  it.each(['ENOENT', 'EISDIR', 'EACCES', 'EMFILE'])('never takes a file error (%s) for a runtime that is not running', (code) => {
    // Prepare: how a file error reaches the command, with the system error as its cause
    const cause = Object.assign(new Error(`${code}: open 'missing.csv'`), { code, path: 'missing.csv' });
    const plain = new Error('could not ingest', { cause });
    const fileError = new TransientFileError('missing.csv: no such file', { cause });

    // Act + Assess
    expect(explainFailure(plain, local)).toBe(plain);
    expect(explainFailure(fileError, local)).toBe(fileError);
  });
});
