/** Crash-safe JSONL results: store, sharding, merging. */
export * from './jsonl';
export * from './store';
export * from './shard';
export * from './merge';
