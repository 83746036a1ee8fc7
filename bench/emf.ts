/**
 * Reads what the handlers write to stdout and stderr, as CloudWatch would: JSON log lines are counted, EMF
 * documents (Powertools Metrics) are parsed for their metric values, anything else passes through.
 */
import { z } from 'zod';

const emfDocument = z.looseObject({
  _aws: z.looseObject({
    CloudWatchMetrics: z.array(z.looseObject({ Metrics: z.array(z.looseObject({ Name: z.string() })) })),
  }),
  task: z.string().optional(),
});

export interface MetricsDocument {
  /** The `task` dimension (the workflow-wide metrics use `workflow`). */
  readonly task: string | undefined;
  values(metric: string): number[];
  sum(metric: string): number;
}

/** Parses one EMF document; undefined for any other line. */
export const parseEmf = (line: string): MetricsDocument | undefined => {
  if (!line.startsWith('{') || !line.includes('"_aws"')) return undefined;
  const parsed = emfDocument.safeParse(JSON.parse(line));
  if (!parsed.success) return undefined;
  const document = parsed.data as Record<string, unknown>;
  const values = (metric: string): number[] => {
    const value = document[metric];
    if (typeof value === 'number') return [value];
    return Array.isArray(value) ? value.filter((entry): entry is number => typeof entry === 'number') : [];
  };
  return { task: parsed.data.task, values, sum: (metric) => values(metric).reduce((total, value) => total + value, 0) };
};

export interface CapturedOutput {
  readonly logBytes: number;
  readonly emfBytes: number;
  restore(): void;
}

/**
 * Replaces process.stdout.write and process.stderr.write until `restore()`. Only EMF lines that `wanted`
 * accepts are parsed (a cheap test on the raw line), the others merely counted.
 */
export const captureStdout = (onMetrics: (document: MetricsDocument) => void, wanted: (line: string) => boolean = () => true): CapturedOutput => {
  const counts = { logBytes: 0, emfBytes: 0 };
  const restores = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write.bind(stream);
    let pending = '';
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const emf = line.startsWith('{') && line.includes('"_aws"');
        const metrics = emf && wanted(line) ? parseEmf(line) : undefined;
        if (emf) {
          counts.emfBytes += Buffer.byteLength(line) + 1;
          if (metrics) onMetrics(metrics);
        } else if (line.startsWith('{')) {
          counts.logBytes += Buffer.byteLength(line) + 1;
        } else {
          original(`${line}\n`);
        }
      }
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
    return () => {
      stream.write = original;
    };
  });
  return {
    get logBytes() {
      return counts.logBytes;
    },
    get emfBytes() {
      return counts.emfBytes;
    },
    restore: () => restores.forEach((restore) => restore()),
  };
};
