/**
 * A stand-in for CloudFormation's DescribeStacks on a loopback port (the SDK finds it through
 * AWS_ENDPOINT_URL_CLOUDFORMATION), so the CLI's way to a deployment runs through the real SDK client.
 */
import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const body = (request: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });

const describeStacks = (name: string, outputs: Record<string, string>) => `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <DescribeStacksResult><Stacks><member>
    <StackName>${xml(name)}</StackName>
    <StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${xml(name)}/1</StackId>
    <CreationTime>2026-01-01T00:00:00.000Z</CreationTime>
    <StackStatus>CREATE_COMPLETE</StackStatus>
    <Outputs>${Object.entries(outputs)
      .map(([key, value]) => `<member><OutputKey>${xml(key)}</OutputKey><OutputValue>${xml(value)}</OutputValue></member>`)
      .join('')}</Outputs>
  </member></Stacks></DescribeStacksResult>
  <ResponseMetadata><RequestId>fake-1</RequestId></ResponseMetadata>
</DescribeStacksResponse>`;

const noSuchStack = (name: string) => `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${xml(name)} does not exist</Message></Error>
  <RequestId>fake-2</RequestId>
</ErrorResponse>`;

/** Serves the given stacks' outputs; any other stack name gets CloudFormation's "does not exist". */
export const fakeCloudFormation = async (stacks: Record<string, Record<string, string>>) => {
  const server = createServer((request, response) => {
    void body(request).then((text) => {
      const params = new URLSearchParams(text);
      const name = params.get('StackName') ?? '';
      const outputs = params.get('Action') === 'DescribeStacks' ? stacks[name] : undefined;
      response.writeHead(outputs ? 200 : 400, { 'content-type': 'text/xml' });
      response.end(outputs ? describeStacks(name, outputs) : noSuchStack(name));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
