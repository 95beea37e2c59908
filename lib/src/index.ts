/** dirmag: direction vs magnitude in transformer hidden states. */
export * from './engine/types';
