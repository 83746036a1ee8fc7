/**
 * The size of a DynamoDB item as DynamoDB bills it: attribute names and values in bytes, following
 * "Item sizes and formats" of the DynamoDB developer guide. Used where a response carries an item but no
 * consumed capacity (a refused conditional write is still billed for the item it was checked against).
 */
import { z } from 'zod';

/** An attribute value as it travels in DynamoDB's JSON protocol (binaries base64-encoded). */
export interface WireValue {
  readonly S?: string;
  readonly N?: string;
  /** Base64 on the wire, bytes once the SDK has read it. */
  readonly B?: string | Uint8Array;
  readonly BOOL?: boolean;
  readonly NULL?: boolean;
  readonly SS?: readonly string[];
  readonly NS?: readonly string[];
  readonly BS?: readonly (string | Uint8Array)[];
  readonly L?: readonly WireValue[];
  readonly M?: Readonly<Record<string, WireValue>>;
}
export type WireItem = Readonly<Record<string, WireValue>>;

export const wireValueSchema: z.ZodType<WireValue> = z.lazy(() =>
  z.object({
    S: z.string().optional(),
    N: z.string().optional(),
    B: z.string().optional(),
    BOOL: z.boolean().optional(),
    NULL: z.boolean().optional(),
    SS: z.array(z.string()).optional(),
    NS: z.array(z.string()).optional(),
    BS: z.array(z.string()).optional(),
    L: z.array(wireValueSchema).optional(),
    M: z.record(z.string(), wireValueSchema).optional(),
  }),
);
export const wireItemSchema = z.record(z.string(), wireValueSchema);

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');
const binary = (value: string | Uint8Array) => (typeof value === 'string' ? Buffer.from(value, 'base64').byteLength : value.byteLength);

/** About one byte per two significant digits, plus one. */
export const numberSize = (text: string): number => {
  const digits = text
    .replace(/^[-+]/, '')
    .replace(/[eE][-+]?\d+$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
};

const sum = <T>(values: readonly T[], size: (value: T) => number) => values.reduce((total, value) => total + size(value), 0);

export const attributeValueSize = (value: WireValue): number => {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return binary(value.B);
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return sum(value.SS, utf8);
  if (value.NS !== undefined) return sum(value.NS, numberSize);
  if (value.BS !== undefined) return sum(value.BS, binary);
  if (value.L !== undefined) return 3 + sum(value.L, (element) => 1 + attributeValueSize(element));
  if (value.M !== undefined) return 3 + sum(Object.entries(value.M), ([name, element]) => 1 + utf8(name) + attributeValueSize(element));
  return 0;
};

export const itemSize = (item: WireItem): number => sum(Object.entries(item), ([name, value]) => utf8(name) + attributeValueSize(value));

/** Write units of a standard write of an item this size: one per started KB. */
export const writeUnitsFor = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));
