/**
 * How transients are ordered and spread: Blast's priority (oldest public timestamp first) as a sort key, and a
 * stable shard for a name, so that no partition of an index or a counter takes every write.
 */
/** Blast's priority, oldest public timestamp first, as a sort key (the name keeps it unique). */
export const priorityKey = (transient: { readonly publicTimestamp: string; readonly name: string }): string =>
  `${new Date(transient.publicTimestamp).toISOString()}#${transient.name}`;

/** The public timestamp a priority key holds, given the transient's name. */
export const timestampOfPriority = (priority: string, name: string): string => priority.slice(0, priority.length - name.length - 1);

/** FNV-1a: a stable, well-spread shard for a transient name. */
export const shardOf = (name: string, shards: number): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
};
