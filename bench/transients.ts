/**
 * Transients for the benchmark: the sample transients (whose hosts are in the example catalogue, so the
 * example runners take every branch, errors included) repeated under new names as short as TNS's, each a
 * second later. Every benchmark step has a table of its own, so names need only be unique within a call.
 */
import type { Transient } from '../lib/runner';
import { readTransientFile } from '../lib/fixtures/transient-files';

export const SAMPLE_TRANSIENTS = 'fixtures/sample_transients.yaml';

export const syntheticTransients = (count: number, samplesFile = SAMPLE_TRANSIENTS): Transient[] => {
  const { transients: samples, errors } = readTransientFile(samplesFile);
  if (errors.length > 0 || samples.length === 0) throw new Error(`${samplesFile}: ${errors.length} bad rows, ${samples.length} good ones`);
  return Array.from({ length: count }, (_, index) => {
    const sample = samples[index % samples.length] as Transient;
    return {
      ...sample,
      name: `${sample.name}-${index.toString(36)}`,
      publicTimestamp: new Date(Date.parse(sample.publicTimestamp) + index * 1000).toISOString(),
    };
  });
};
