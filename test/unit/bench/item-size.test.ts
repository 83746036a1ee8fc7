import { describe, expect, it } from 'vitest';
import { itemSize, numberSize, writeUnitsFor } from '../../../bench/item-size';

describe('Function: numberSize', () => {
  it.each([
    ['1', 2],
    ['12', 2],
    ['123', 3],
    ['1700000000000', 2],
    ['1712345678901', 8],
    ['-0.05', 2],
    ['121.6015', 5],
  ])('%s takes %d bytes', (text, bytes) => {
    expect(numberSize(text)).toBe(bytes);
  });
});

describe('Function: itemSize', () => {
  it('adds attribute names to their values, with three bytes and one per element for maps and lists', () => {
    // Prepare: pk (2 + 3), n (1 + 2), m: 1 + 3 + (1 + 1 + 9) + (1 + 1 + 1), l: 1 + 3 + (1 + 1) + (1 + 2)
    const item = {
      pk: { S: 'T#a' },
      n: { N: '1' },
      m: { M: { s: { S: 'processed' }, b: { BOOL: true } } },
      l: { L: [{ NULL: true }, { S: 'ab' }] },
    };

    // Act / Assess
    expect(itemSize(item)).toBe(5 + 3 + 18 + 9);
  });

  it('counts binaries in bytes, whether base64 on the wire or already decoded', () => {
    expect(itemSize({ b: { B: Buffer.from('hello').toString('base64') } })).toBe(6);
    expect(itemSize({ b: { B: new Uint8Array(5) } })).toBe(6);
  });
});

describe('Function: writeUnitsFor', () => {
  it.each([
    [1, 1],
    [1024, 1],
    [1025, 2],
    [3000, 3],
  ])('%d bytes take %d write unit(s)', (bytes, units) => {
    expect(writeUnitsFor(bytes)).toBe(units);
  });
});
