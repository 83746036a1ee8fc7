/**
 * AWS list prices, us-east-1 (US East, N. Virginia), first pricing tier, no free tier, as published on the
 * pricing pages below and checked on 2026-11-28. Lambda is priced for Arm (Graviton), the architecture of
 * the stack's functions.
 */
export const PRICES_CHECKED_ON = '2026-11-28';

export const prices = {
  dynamodb: {
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    /** On-demand, Standard table class (the price in force since 2024-11-01). */
    usdPerMillionWriteUnits: 0.625,
    usdPerMillionReadUnits: 0.125,
  },
  sqs: {
    source: 'https://aws.amazon.com/sqs/pricing/',
    /** Standard queues, first 100 billion requests a month; each 64 KB chunk of a payload is one request (lib/queue/task-queues.ts billingChunks). */
    usdPerMillionRequests: 0.4,
  },
  lambda: {
    source: 'https://aws.amazon.com/lambda/pricing/',
    usdPerMillionRequests: 0.2,
    /** Arm, first 7.5 billion GB-seconds a month; duration is billed per started millisecond. */
    usdPerGbSecond: 0.0000133334,
  },
  stepFunctions: {
    source: 'https://aws.amazon.com/step-functions/pricing/',
    /** Standard workflows: $0.025 per 1,000 state transitions. */
    usdPerMillionTransitions: 25,
  },
} as const;
