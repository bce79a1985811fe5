/** The pull engine's entry: `pull()` and its shapes. The parts live in ./pull/ (plan → scheduler → stages). */
export { pull, DEFAULT_PARALLEL } from './transfer/run.ts';
export { planPull, initialProgress, type LayerAction, type PlannedLayer } from './transfer/plan.ts';
export type {
  LayerMode,
  LayerProgress,
  LayerState,
  PulledImage,
  PullOptions,
  PullProgress,
  PullResult,
  TransferStats,
} from './transfer/types.ts';
export type { RateLimit } from './registry/transport/rate-limit.ts';
