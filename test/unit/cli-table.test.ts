import { describe, expect, it } from 'vitest';
import { alignedTable } from '../../cli/table.ts';

describe('alignedTable (the CLI text tables)', () => {
  it.each([
    // columns padded to the widest cell, two spaces apart, the last one not padded
    [[['ID', 'STATE', 'TEXT'], ['a1', 'firing', 'disk full'], ['b', 'ok', '']], 'ID  STATE   TEXT\na1  firing  disk full\nb   ok      \n'],
    // a header alone
    [[['ONLY']], 'ONLY\n'],
    // nothing at all: nothing printed
    [[], ''],
  ])('%j', (rows, text) => {
    expect(alignedTable(rows)).toBe(text);
  });
});
