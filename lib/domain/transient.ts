import { z } from 'zod';

/** Longest transient name: it keys DynamoDB items (at most 1,024 bytes in a sort key) and travels in every message. */
export const MAX_NAME_LENGTH = 120;
/** Longest spectroscopic class (TNS's are a few words), so that no field can push an item past DynamoDB's 400 KB. */
export const MAX_CLASS_LENGTH = 64;
/**
 * Public timestamps must fall in these years. The priority key is `${iso}#${name}` and sorts as text: a year
 * past 9999 is written "+010000-…" and would sort before every other transient; TNS has nothing before 1900.
 */
export const MIN_TIMESTAMP_YEAR = 1900;
export const MAX_TIMESTAMP_YEAR = 9999;

/**
 * TNS's own character set for names (designations such as "2024abc", survey names such as "ZTF24aaabcde",
 * "PSN J01234567+1234567" or "MASTER OT J012345.67-123456.7"): ASCII letters and digits, and space, ".", "_",
 * "+" and "-". Everything else is refused: the key separator "#", path separators, IAM's pattern characters, and
 * every control, format or non-ASCII character (terminal escapes, bidirectional overrides, look-alikes).
 */
const OUTSIDE_NAME_CHARACTERS = /[^A-Za-z0-9 ._+-]/u;
const NAME_CHARACTERS_TEXT = 'letters, digits, spaces and . _ + -';

const codePoint = (character: string) => `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * A transient's name, as ingested and as it arrives in a message: TNS's character set only (the complement of {@link OUTSIDE_NAME_CHARACTERS}),
 * since it keys DynamoDB items and reaches terminals and paths. The reason names the first other character by
 * its code point (never printing it).
 */
export const transientNameSchema = z
  .string()
  .trim()
  .min(1, 'name is empty')
  .max(MAX_NAME_LENGTH, `name is longer than ${MAX_NAME_LENGTH} characters`)
  .check((ctx) => {
    const outside = OUTSIDE_NAME_CHARACTERS.exec(ctx.value);
    if (outside) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: `name may hold only ${NAME_CHARACTERS_TEXT} (${codePoint(outside[0])} at position ${[...ctx.value.slice(0, outside.index)].length + 1})`,
      });
    }
  });

/**
 * ISO 8601 dates and date-times with a four-digit year, and TNS's own "YYYY-MM-DD HH:MM:SS(.fff)": a date,
 * optionally a time (minutes, seconds and a fraction optional) after "T" or a space, optionally "Z" or an offset.
 */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

export type TimestampReading = { readonly iso: string } | { readonly issue: string };

/**
 * Reads a public timestamp strictly, where `Date.parse` would guess ("1" is 2001 to it, "2024-02-30" is
 * 1 March): the text must match {@link TIMESTAMP}, every field must be in range, and the instant must fall
 * in {@link MIN_TIMESTAMP_YEAR}–{@link MAX_TIMESTAMP_YEAR} (UTC). Without "Z" or an offset the time is UTC, as TNS writes it.
 */
export const readTimestamp = (text: string): TimestampReading => {
  const notADate = { issue: 'public timestamp is not a date (use ISO 8601)' };
  const match = TIMESTAMP.exec(text.trim());
  if (!match) return notADate;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', , sign, offsetHours = '0', offsetMinutes = '0'] = match;
  const [y, mo, d, h, mi, s, oh, om] = [year, month, day, hour, minute, second, offsetHours, offsetMinutes].map(Number) as [number, number, number, number, number, number, number, number];
  if (h > 23 || mi > 59 || s > 59 || oh > 23 || om > 59) return notADate;
  const local = new Date(0);
  local.setUTCFullYear(y, mo - 1, d);
  local.setUTCHours(h, mi, s, Number(fraction.padEnd(3, '0').slice(0, 3)));
  // A day the month does not have rolls over into the next month: refuse it instead.
  if (local.getUTCFullYear() !== y || local.getUTCMonth() !== mo - 1 || local.getUTCDate() !== d) return notADate;
  const offsetMs = (sign === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  const instant = new Date(local.getTime() - offsetMs);
  const utcYear = instant.getUTCFullYear();
  if (utcYear < MIN_TIMESTAMP_YEAR || utcYear > MAX_TIMESTAMP_YEAR) {
    return { issue: `public timestamp must fall in the years ${MIN_TIMESTAMP_YEAR}–${MAX_TIMESTAMP_YEAR}` };
  }
  return { iso: instant.toISOString() };
};

/** A transient as the runners see it (Blast's `Transient` model, camelCased); lib/runner.ts re-exports it. */
export interface Transient {
  readonly name: string;
  readonly raDeg: number;
  readonly decDeg: number;
  /** ISO 8601; oldest first is Blast's priority. */
  readonly publicTimestamp: string;
  readonly redshift?: number;
  readonly spectroscopicClass?: string;
}

/** A transient as it may be ingested. */
export const transientSchema = z.strictObject({
  name: transientNameSchema,
  raDeg: z.number({ error: 'ra must be a number of degrees' }).min(0, 'ra must be in [0, 360)').lt(360, 'ra must be in [0, 360)'),
  decDeg: z.number({ error: 'dec must be a number of degrees' }).min(-90, 'dec must be in [-90, 90]').max(90, 'dec must be in [-90, 90]'),
  publicTimestamp: z.string({ error: 'public timestamp is missing' }).transform((text, ctx) => {
    const reading = readTimestamp(text);
    if ('iso' in reading) return reading.iso;
    ctx.issues.push({ code: 'custom', input: text, message: reading.issue });
    return z.NEVER;
  }),
  redshift: z.number({ error: 'redshift must be a number' }).nonnegative('redshift must not be negative').optional(),
  spectroscopicClass: z.string().trim().min(1).max(MAX_CLASS_LENGTH, `class is longer than ${MAX_CLASS_LENGTH} characters`).optional(),
});

export type TransientInput = z.input<typeof transientSchema>;

export const describeTransientIssues = (error: z.ZodError): string => error.issues.map((issue) => issue.message).join('; ');
