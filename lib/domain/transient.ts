import { z } from 'zod';

/** A transient as it may be ingested; names key DynamoDB items, so '#' (the key separator) is refused. */
export const transientSchema = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, 'name is empty')
    .max(120, 'name is longer than 120 characters')
    .refine((name) => !name.includes('#'), 'name must not contain "#"'),
  raDeg: z.number({ error: 'ra must be a number of degrees' }).min(0, 'ra must be in [0, 360)').lt(360, 'ra must be in [0, 360)'),
  decDeg: z.number({ error: 'dec must be a number of degrees' }).min(-90, 'dec must be in [-90, 90]').max(90, 'dec must be in [-90, 90]'),
  publicTimestamp: z
    .string({ error: 'public timestamp is missing' })
    .refine((text) => !Number.isNaN(Date.parse(text)), 'public timestamp is not a date (use ISO 8601)')
    .transform((text) => new Date(text).toISOString()),
  redshift: z.number({ error: 'redshift must be a number' }).nonnegative('redshift must not be negative').optional(),
  spectroscopicClass: z.string().trim().min(1).optional(),
});

export type TransientInput = z.input<typeof transientSchema>;

export const describeTransientIssues = (error: z.ZodError): string => error.issues.map((issue) => issue.message).join('; ');
