import { StatusMessage, TaskName } from '../lib/generated/fixtures';
import { hostCatalog } from './science/host-catalog';

/** Blast's runners list every ancestor as "processed"; these are the shared heads of those lists. */
export const hostMatched = {
  [TaskName.CutoutDownload]: StatusMessage.Processed,
  [TaskName.TransientMWEBV]: StatusMessage.Processed,
  [TaskName.HostMatch]: StatusMessage.Processed,
} as const;

export const hostKnown = { ...hostMatched, [TaskName.HostInformation]: StatusMessage.Processed } as const;

export const globalPhotometryValid = {
  ...hostKnown,
  [TaskName.GlobalApertureConstruction]: StatusMessage.Processed,
  [TaskName.GlobalAperturePhotometry]: StatusMessage.Processed,
  [TaskName.ValidateGlobalPhotometry]: StatusMessage.Processed,
} as const;

export const localPhotometryValid = {
  ...hostKnown,
  [TaskName.LocalAperturePhotometry]: StatusMessage.Processed,
  [TaskName.ValidateLocalPhotometry]: StatusMessage.Processed,
} as const;

export const catalogHost = (name: string) => {
  const host = hostCatalog.find((candidate) => candidate.name === name);
  if (!host) throw new Error(`host "${name}" is not in the catalogue`);
  return host;
};
