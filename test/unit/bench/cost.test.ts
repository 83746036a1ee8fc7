import { describe, expect, it } from 'vitest';
import { billedSqsRequests, gbSeconds, stepFunctionsUsdPerMillion, usdPerMillionExecutions } from '../../../bench/cost';
import { prices } from '../../../bench/prices';

describe('Function: usdPerMillionExecutions', () => {
  it('prices each service per million executions at the list prices', () => {
    // Prepare: per execution 2 write units, 0.5 read units, 3 SQS requests, 1 invocation of 40 ms at 512 MB
    const executions = 1_000;
    const usage = {
      executions,
      dynamodb: { writeUnits: 2 * executions, readUnits: 0.5 * executions },
      sqs: { billedRequests: 3 * executions },
      lambda: { invocations: executions, gbSeconds: executions * gbSeconds(40, 512) },
    };

    // Act
    const cost = usdPerMillionExecutions(usage);

    // Assess
    expect(cost.dynamodb).toBeCloseTo(2 * prices.dynamodb.usdPerMillionWriteUnits + 0.5 * prices.dynamodb.usdPerMillionReadUnits);
    expect(cost.sqs).toBeCloseTo(3 * prices.sqs.usdPerMillionRequests);
    expect(cost.lambda).toBeCloseTo(prices.lambda.usdPerMillionRequests + 0.02 * 1e6 * prices.lambda.usdPerGbSecond);
    expect(cost.total).toBeCloseTo(cost.dynamodb + cost.sqs + cost.lambda);
  });

  it('is NaN for a run without executions rather than a misleading zero', () => {
    const none = { executions: 0, dynamodb: { writeUnits: 5, readUnits: 0 }, sqs: { billedRequests: 1 }, lambda: { invocations: 1, gbSeconds: 1 } };
    expect(usdPerMillionExecutions(none).total).toBeNaN();
  });
});

describe('Function: billedSqsRequests', () => {
  it.each([
    [0, 1],
    [200, 1],
    [65_536, 1],
    [65_537, 2],
    [256 * 1024, 4],
  ])('bills a %d-byte payload as %d request(s)', (bytes, requests) => {
    expect(billedSqsRequests(bytes)).toBe(requests);
  });
});

describe('Function: gbSeconds', () => {
  it('rounds the duration up to the millisecond, as Lambda bills it', () => {
    expect(gbSeconds(10.2, 1024)).toBeCloseTo(0.011);
    expect(gbSeconds(1000, 512)).toBeCloseTo(0.5);
  });
});

describe('Function: stepFunctionsUsdPerMillion', () => {
  it('is at least one state transition and one Lambda request per task', () => {
    expect(stepFunctionsUsdPerMillion()).toBeCloseTo(25.2);
  });
});
