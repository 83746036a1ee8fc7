/** Plain-text tables and values for the CLI; colour only on a terminal (and never with NO_COLOR). */
import { colors } from '../terminal/colors';

/** A table cell: its text, and how to colour it once padded. */
export interface Cell {
  readonly text: string;
  readonly paint?: (text: string) => string;
  readonly alignRight?: boolean;
}

const cellOf = (value: string | Cell): Cell => (typeof value === 'string' ? { text: value } : value);

/** Columns padded to their widest cell; the last column is not padded, so lines carry no trailing spaces. */
export const renderTable = (headers: readonly string[], rows: readonly (readonly (string | Cell)[])[], indent = '  '): string[] => {
  const cells = rows.map((row) => row.map(cellOf));
  const widths = headers.map((header, column) => Math.max(header.length, ...cells.map((row) => row[column]?.text.length ?? 0)));
  const line = (row: readonly Cell[], paintHeader = false) => {
    const last = row.length - 1;
    const text = row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        const padded = column === last && !cell.alignRight ? cell.text : cell.alignRight ? cell.text.padStart(width) : cell.text.padEnd(width);
        return cell.paint ? cell.paint(padded) : padded;
      })
      .join('  ');
    return `${indent}${paintHeader ? colors.bold(text) : text}`.trimEnd();
  };
  return [line(headers.map((text) => ({ text })), true), ...cells.map((row) => line(row))];
};

/** Epoch ms as UTC to the second: 2026-05-11T14:03:07Z. */
export const formatTime = (ms: number | undefined): string => (ms === undefined ? '' : `${new Date(ms).toISOString().slice(0, 19)}Z`);

export const formatSeconds = (seconds: number | undefined): string => (seconds === undefined ? '' : `${seconds.toFixed(2)} s`);

export const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
