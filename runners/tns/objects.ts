/**
 * TNS's objects as this project's transients. The bot API's object reply and the daily CSV name the same
 * things differently; both map to Blast's fields: name (objname, without the SN/AT prefix), coordinates in
 * degrees, the discovery date as the public timestamp (as Blast does), the redshift (absent, empty or NaN
 * means none) and the classification.
 */
import { z } from 'zod';
import { describeTransientIssues, readTimestamp, transientSchema } from '../../lib/domain/transient';
import type { Transient } from '../../lib/runner';

/** TNS writes numbers as numbers or strings; empty, null and NaN mean "none". */
const optionalNumber = z
  .union([z.number(), z.string(), z.null(), z.undefined()])
  .transform((value) => (value === null || value === undefined || (typeof value === 'string' && value.trim() === '') ? undefined : Number(value)))
  .transform((value) => (value === undefined || Number.isNaN(value) ? undefined : value));

const optionalText = z
  .union([z.string(), z.null(), z.undefined()])
  .transform((value) => (value === null || value === undefined || value.trim() === '' ? undefined : value.trim()));

/**
 * TNS's dates are UTC written as "YYYY-MM-DD HH:MM:SS(.fff)", which JavaScript would read as local time;
 * they are read as UTC here, strictly (see {@link readTimestamp}). ISO 8601 input is accepted as it is.
 */
export const tnsDateToIso = (text: string): string | undefined => {
  const reading = readTimestamp(text);
  return 'iso' in reading ? reading.iso : undefined;
};

/** The fields of the bot API's object reply that this project reads. */
export const tnsObjectSchema = z.looseObject({
  objname: z.string().min(1),
  objid: z.union([z.number(), z.string()]).optional(),
  name_prefix: optionalText.optional(),
  radeg: z.union([z.number(), z.string()]),
  decdeg: z.union([z.number(), z.string()]),
  redshift: optionalNumber.optional(),
  discoverydate: z.string(),
  object_type: z
    .union([z.looseObject({ name: optionalText.optional() }), z.null()])
    .optional(),
  type: optionalText.optional(),
});
export type TnsObject = z.infer<typeof tnsObjectSchema>;

export type Conversion = { ok: true; transient: Transient } | { ok: false; reason: string };

/** Validates the mapped fields with the same rules as every ingest. */
const toTransient = (fields: Record<string, unknown>): Conversion => {
  const candidate = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  const parsed = transientSchema.safeParse(candidate);
  return parsed.success ? { ok: true, transient: parsed.data } : { ok: false, reason: describeTransientIssues(parsed.error) };
};

const numberOrNaN = (value: number | string) => (typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value));

/** An object reply of /api/get/object as a transient. */
export const transientFromObject = (object: TnsObject): Conversion =>
  toTransient({
    name: object.objname.trim(),
    raDeg: numberOrNaN(object.radeg),
    decDeg: numberOrNaN(object.decdeg),
    publicTimestamp: object.discoverydate,
    redshift: object.redshift,
    spectroscopicClass: object.object_type?.name ?? object.type,
  });

/** A row of the daily CSV (`name`, `ra`, `declination`, `redshift`, `discoverydate`, `type`, ...). */
export const transientFromCsvRow = (row: Readonly<Record<string, string | undefined>>): Conversion => {
  const number = (key: string) => optionalNumber.parse(row[key]);
  const text = (key: string) => optionalText.parse(row[key]);
  const discovered = text('discoverydate');
  return toTransient({
    name: text('name') ?? '',
    raDeg: number('ra') ?? Number.NaN,
    decDeg: number('declination') ?? Number.NaN,
    publicTimestamp: discovered,
    redshift: number('redshift'),
    spectroscopicClass: text('type'),
  });
};
