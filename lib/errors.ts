// The one error type the OMS nodes report through done(err): Catch, oms-retry and oms-dead-letter
// read `code` (classified by lib/reliability), `retryable` when the node knows better than the
// code table, the peer's own code, and the order it concerns.
export interface OmsErrorOptions {
  /** Whether waiting and trying again can help; unset: the code's classification decides. */
  retryable?: boolean;
  /** The peer's own code (Fluent's C0160E, an HTTP status), when it is not `code` itself. */
  peerCode?: string;
  orderRef?: string;
  cause?: unknown;
}

export class OmsError extends Error {
  readonly retryable?: boolean;
  readonly peerCode?: string;
  readonly orderRef?: string;

  constructor(
    message: string,
    readonly code: string,
    options: OmsErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OmsError';
    if (options.retryable !== undefined) this.retryable = options.retryable;
    if (options.peerCode !== undefined) this.peerCode = options.peerCode;
    if (options.orderRef !== undefined) this.orderRef = options.orderRef;
  }
}
