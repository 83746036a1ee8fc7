/** The runners' queue depths from a configuration (the web view's API shows them). */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { QueueDepths } from '../engine/queue-depths';
import { sqsQueueDepths } from '../queue/queue-depths';
import type { Config } from '../settings/config';
import { awsClientConfig } from './aws-clients';

export const createQueueDepths = (config: Config, sqs: SQSClient = new SQSClient(awsClientConfig)): QueueDepths =>
  sqsQueueDepths(sqs, config.queueUrls, config.deadLetterQueueUrls);
