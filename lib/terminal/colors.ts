/**
 * Colours on a terminal (none when stdout is not a TTY or NO_COLOR is set), shared by the CLI, the local
 * runtime and the chaos report. Below all three, so none of them imports another for its colours.
 */
import { StatusType } from '../domain/catalog';
import { ProcessingStatus } from '../domain/workflow';

const useColor = () => process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (useColor() ? `\x1b[${code}m${text}\x1b[0m` : text);
export const colors = { green: paint(32), red: paint(31), yellow: paint(33), dim: paint(2), bold: paint(1) };

export const colorByType = (type: StatusType | undefined) =>
  type === StatusType.Success ? colors.green : type === StatusType.Error ? colors.red : type === StatusType.Warning ? colors.yellow : colors.dim;

export const colorByProcessingStatus = (status: ProcessingStatus) =>
  status === ProcessingStatus.Completed ? colors.green : status === ProcessingStatus.Blocked ? colors.red : colors.yellow;
