/** Crash-safe JSONL results: store, sharding, merging, locking, repair. */
export * from './jsonl';
export * from './lock';
export * from './store';
export * from './shard';
export * from './merge';
export * from './repair';
