/** How times, durations and statuses read on the page. */
import { statusPalette } from '../../lib/domain/graph';
import type { Cell } from '../../lib/web/schemas';

export const formatTime = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));

export const formatAge = (ms: number | undefined, now = Date.now()) => {
  if (ms === undefined) return '';
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
};

export const formatSeconds = (seconds: number | undefined) => (seconds === undefined ? '' : seconds < 60 ? `${seconds.toFixed(2)} s` : `${(seconds / 60).toFixed(1)} min`);

/** The colours of a status: its type's, or the blocked ones (lib/domain/graph.ts, as the CLI's diagrams). */
export const coloursOf = (cell: Pick<Cell, 'type' | 'blocked'>) => statusPalette[cell.blocked ? 'blocked' : cell.type];

/**
 * A grid square's fill: the type's strong colour (its stroke), so a page of squares reads at a glance as Airflow's
 * grid does; "not processed" stays light, and blocked is the blocked grey.
 */
export const squareColour = (cell: Pick<Cell, 'type' | 'blocked'>) => {
  const colours = coloursOf(cell);
  return !cell.blocked && cell.type === 'blank' ? colours.fill : colours.stroke;
};

export const squareStyle = (cell: Pick<Cell, 'type' | 'blocked'>) => ({ background: squareColour(cell), borderColor: coloursOf(cell).stroke });

export const toneStyle = (cell: Pick<Cell, 'type' | 'blocked'>) => {
  const colours = coloursOf(cell);
  return { background: colours.fill, borderColor: colours.stroke, color: colours.text };
};
