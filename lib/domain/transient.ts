import { z } from 'zod';

/** Longest transient name: it keys DynamoDB items (at most 1,024 bytes in a sort key) and travels in every message. */
export const MAX_NAME_LENGTH = 120;
/** Longest spectroscopic class (TNS's are a few words), so that no field can push an item past DynamoDB's 400 KB. */
export const MAX_CLASS_LENGTH = 64;

/** What makes a name unusable as a key or unsafe to print: the key separator, path separators, control characters. */
const UNSAFE_NAME = /[#/\\\p{Cc}\p{Cf}]/u;

/**
 * A transient's name, as ingested and as it arrives in a message. It keys DynamoDB items, so '#' (the key
 * separator) is refused; it reaches terminals and paths, so control characters and slashes are too.
 */
export const transientNameSchema = z
  .string()
  .trim()
  .min(1, 'name is empty')
  .max(MAX_NAME_LENGTH, `name is longer than ${MAX_NAME_LENGTH} characters`)
  .refine((name) => !UNSAFE_NAME.test(name), 'name must not contain "#", "/", "\\" or control characters');

/** A transient as it may be ingested. */
export const transientSchema = z.strictObject({
  name: transientNameSchema,
  raDeg: z.number({ error: 'ra must be a number of degrees' }).min(0, 'ra must be in [0, 360)').lt(360, 'ra must be in [0, 360)'),
  decDeg: z.number({ error: 'dec must be a number of degrees' }).min(-90, 'dec must be in [-90, 90]').max(90, 'dec must be in [-90, 90]'),
  publicTimestamp: z
    .string({ error: 'public timestamp is missing' })
    .refine((text) => !Number.isNaN(Date.parse(text)), 'public timestamp is not a date (use ISO 8601)')
    .transform((text) => new Date(text).toISOString()),
  redshift: z.number({ error: 'redshift must be a number' }).nonnegative('redshift must not be negative').optional(),
  spectroscopicClass: z.string().trim().min(1).max(MAX_CLASS_LENGTH, `class is longer than ${MAX_CLASS_LENGTH} characters`).optional(),
});

export type TransientInput = z.input<typeof transientSchema>;

export const describeTransientIssues = (error: z.ZodError): string => error.issues.map((issue) => issue.message).join('; ');
