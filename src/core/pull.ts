/** The pull engine's entry: `pull()` and its shapes. The parts live in ./pull/ (plan → scheduler → stages). */
export { pull, DEFAULT_PARALLEL } from './pull/run.ts';
export { planPull, initialProgress, type LayerAction, type PlannedLayer } from './pull/plan.ts';
export type {
  LayerMode,
  LayerProgress,
  LayerState,
  PulledImage,
  PullOptions,
  PullProgress,
  PullResult,
  TransferStats,
} from './pull/types.ts';
export type { RateLimit } from './transport/rate-limit.ts';
