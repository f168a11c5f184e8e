// Public API of lib/reliability: every peer call and the oms-retry node go through this.

export {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  decideRetry,
  formatDuration,
  normalizePolicy,
  type DecideRetryInput,
  type GiveUpReason,
  type RetryDecision,
  type RetryPolicy,
} from './policy';
export { parseHttpDate, parseRetryAfter } from './retry-after';
export {
  classifyError,
  codeClassifier,
  composeClassifiers,
  defaultClassifier,
  errorChain,
  errorFromMessage,
  flagClassifier,
  headerValue,
  httpClassifier,
  networkClassifier,
  peerCodeClassifier,
  unclassifiedAs,
  type Classification,
  type Classifier,
  type CodeClassifier,
  type CodePattern,
  type ErrorClass,
  type TotalClassifier,
} from './classify';
export {
  BreakerRegistry,
  CircuitBreaker,
  CircuitOpenError,
  DEFAULT_BREAKER_OPTIONS,
  type BreakerOptions,
  type BreakerPermit,
  type BreakerRegistryOptions,
  type BreakerSnapshot,
  type BreakerState,
} from './breaker';
export {
  AbortError,
  AttemptTimeoutError,
  RetryExhaustedError,
  sleep,
  withRetry,
  type RetryInfo,
  type WithRetryOptions,
} from './execute';
export { DurableRetry, type DurableRetryOptions, type RetryMarker } from './durable-retry';
export { errorInfoOf } from './message-error';
export {
  retrySettings,
  RetrySchedule,
  SWEEP_MS,
  type RetrySettings,
  type RetrySettingsInput,
} from './retry-schedule';
