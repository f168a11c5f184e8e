import assert from 'node:assert/strict';
import {
  classifyError,
  codeClassifier,
  composeClassifiers,
  defaultClassifier,
  errorChain,
  errorFromMessage,
  flagClassifier,
  httpClassifier,
  networkClassifier,
  peerCodeClassifier,
  unclassifiedAs,
} from '../../../lib/reliability/classify';
import { CircuitOpenError } from '../../../lib/reliability/breaker';
import { RetryExhaustedError } from '../../../lib/reliability/execute';

const NOW = 1_700_000_000_000;

/** What Node-RED puts in msg.error when a node calls done(err) (Flow.handleError). */
function nodeRedCopy(err: Error): Record<string, unknown> {
  const copy: Record<string, unknown> = {
    message: err.toString(),
    source: { id: 'n1', type: 'oms-x', count: 1 },
  };
  for (const key of ['code', 'stack', 'cause']) {
    if (Object.prototype.hasOwnProperty.call(err, key))
      copy[key] = (err as unknown as Record<string, unknown>)[key];
  }
  return copy;
}

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('lib/reliability/classify', () => {
  describe('httpClassifier', () => {
    it('reads the status from status, statusCode and response.status', () => {
      assert.equal(httpClassifier({ status: 503 }, NOW)?.reason, 'HTTP 503');
      assert.equal(httpClassifier({ statusCode: 502 }, NOW)?.status, 502);
      assert.equal(httpClassifier({ response: { status: 504 } }, NOW)?.status, 504);
      assert.equal(httpClassifier({ statusCode: '500' }, NOW)?.status, 500);
    });

    it('treats 408, 425, 429 and 5xx as retryable and other 4xx as permanent', () => {
      for (const s of [408, 425, 429, 500, 502, 503, 504, 599]) {
        assert.equal(httpClassifier({ status: s }, NOW)?.kind, 'retryable', String(s));
      }
      for (const s of [400, 401, 403, 404, 409, 413, 422]) {
        assert.equal(httpClassifier({ status: s }, NOW)?.kind, 'permanent', String(s));
      }
    });

    it('has no opinion without a failing status', () => {
      assert.equal(httpClassifier({ status: 302 }, NOW), undefined);
      assert.equal(httpClassifier({ status: 200 }, NOW), undefined);
      assert.equal(httpClassifier({ status: 999 }, NOW), undefined);
      assert.equal(httpClassifier(new Error('x'), NOW), undefined);
      assert.equal(httpClassifier('503', NOW), undefined);
    });

    it('reads Retry-After from retryAfter, headers and response.headers in any case', () => {
      assert.equal(httpClassifier({ status: 503, retryAfter: '5' }, NOW)?.retryAfterMs, 5000);
      assert.equal(httpClassifier({ status: 429, headers: { 'Retry-After': '6' } }, NOW)?.retryAfterMs, 6000);
      assert.equal(
        httpClassifier({ response: { status: 429, headers: { 'RETRY-AFTER': '7' } } }, NOW)?.retryAfterMs,
        7000,
      );
      const fetchHeaders = new Headers({ 'Retry-After': '8' });
      assert.equal(httpClassifier({ status: 503, headers: fetchHeaders }, NOW)?.retryAfterMs, 8000);
      const date = new Date(NOW + 30_000).toUTCString();
      assert.equal(
        httpClassifier({ status: 503, headers: { 'retry-after': date } }, NOW)?.retryAfterMs,
        30_000,
      );
      assert.equal(
        httpClassifier({ status: 503, headers: { 'retry-after': 'later' } }, NOW)?.retryAfterMs,
        undefined,
      );
    });

    it('ignores Retry-After on a permanent error', () => {
      assert.equal(
        httpClassifier({ status: 400, headers: { 'retry-after': '5' } }, NOW)?.retryAfterMs,
        undefined,
      );
    });
  });

  describe('networkClassifier', () => {
    it('treats socket, DNS and undici codes as retryable', () => {
      for (const code of [
        'ECONNRESET',
        'ECONNREFUSED',
        'ETIMEDOUT',
        'EPIPE',
        'ENOTFOUND',
        'ENETUNREACH',
        'EHOSTUNREACH',
        'EAI_AGAIN',
        'ECONNABORTED',
        'ESOCKETTIMEDOUT',
        'UND_ERR_SOCKET',
        'UND_ERR_CONNECT_TIMEOUT',
        'UND_ERR_HEADERS_TIMEOUT',
      ]) {
        const c = networkClassifier(withCode('x', code), NOW);
        assert.equal(c?.kind, 'retryable', code);
        assert.equal(c?.reason, code);
      }
      assert.equal(networkClassifier(withCode('x', 'ETIMEDOUT'), NOW)?.detail, 'timed out');
      assert.equal(networkClassifier(withCode('x', 'EACCES'), NOW), undefined);
    });

    it('looks through cause chains (fetch/undici wrap the errno)', () => {
      const fetchFailed = new TypeError('fetch failed', {
        cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED'),
      });
      assert.equal(networkClassifier(fetchFailed, NOW)?.reason, 'ECONNREFUSED');
      const deep = new Error('a', { cause: new Error('b', { cause: { code: 'UND_ERR_SOCKET' } }) });
      assert.equal(networkClassifier(deep, NOW)?.reason, 'UND_ERR_SOCKET');
      const agg = new AggregateError(
        [withCode('v6', 'ENETUNREACH'), withCode('v4', 'ECONNREFUSED')],
        'all failed',
      );
      assert.equal(networkClassifier(agg, NOW)?.reason, 'ENETUNREACH');
    });

    it('survives a cyclic cause chain', () => {
      const a: Record<string, unknown> = { message: 'a' };
      const b: Record<string, unknown> = { message: 'b', cause: a };
      a.cause = b;
      assert.equal(networkClassifier(a, NOW), undefined);
      assert.equal(errorChain(a).length, 2);
    });

    it('treats AbortError and TimeoutError as retryable, also by the name in a copied message', () => {
      assert.equal(networkClassifier(new DOMException('aborted', 'AbortError'), NOW)?.reason, 'AbortError');
      assert.equal(networkClassifier(new DOMException('slow', 'TimeoutError'), NOW)?.reason, 'TimeoutError');
      assert.equal(
        networkClassifier({ message: 'AbortError: This operation was aborted' }, NOW)?.kind,
        'retryable',
      );
      assert.equal(networkClassifier({ message: 'Error: boom' }, NOW), undefined);
    });
  });

  describe('codeClassifier', () => {
    it('matches exact codes with an optional peer label', () => {
      const fluent = codeClassifier({ C0121E: 'permanent', C0500E: 'retryable' }, [], { label: 'Fluent' });
      assert.deepEqual(fluent({ code: 'C0121E' }, NOW), {
        kind: 'permanent',
        reason: 'Fluent C0121E',
        detail: 'peer code',
        code: 'C0121E',
      });
      assert.equal(fluent({ code: 'C0500E' }, NOW)?.kind, 'retryable');
      assert.equal(fluent({ code: 'C9999E' }, NOW), undefined);
      assert.equal(fluent({ message: 'no code' }, NOW), undefined);
    });

    it('matches patterns, numeric codes and codes in the cause chain', () => {
      const sftp = codeClassifier({ '2': 'permanent' }, [{ test: /^ERR_NOT_CONN/g, kind: 'retryable' }]);
      assert.equal(sftp({ code: 2 }, NOW)?.kind, 'permanent');
      // a /g pattern must give the same answer every time
      assert.equal(sftp({ code: 'ERR_NOT_CONNECTED' }, NOW)?.kind, 'retryable');
      assert.equal(sftp({ code: 'ERR_NOT_CONNECTED' }, NOW)?.kind, 'retryable');
      assert.equal(sftp(new Error('wrap', { cause: { code: 2 } }), NOW)?.reason, '2');
    });

    it('lets later registrations add and refine codes', () => {
      const c = codeClassifier({}, [{ test: /^X/, kind: 'retryable' }]);
      assert.equal(c({ code: 'X1' }, NOW)?.kind, 'retryable');
      c.register({ X2: 'permanent' }, [{ test: /^X1/, kind: 'permanent' }], 'Peer');
      assert.equal(c({ code: 'X1' }, NOW)?.reason, 'Peer X1');
      assert.equal(c({ code: 'X1' }, NOW)?.kind, 'permanent');
      assert.equal(c({ code: 'X2' }, NOW)?.kind, 'permanent');
      assert.equal(c({ code: 'X3' }, NOW)?.kind, 'retryable');
    });

    it('peer codes registered on the shared classifier reach defaultClassifier', () => {
      assert.equal(defaultClassifier({ code: 'TESTPEER_0001' }, NOW).reason, 'unclassified error');
      peerCodeClassifier.register({ TESTPEER_0001: 'permanent' }, [], 'TestPeer');
      const c = defaultClassifier({ code: 'TESTPEER_0001' }, NOW);
      assert.equal(c.kind, 'permanent');
      assert.equal(c.reason, 'TestPeer TESTPEER_0001');
    });

    it('reads the status back from an HTTP_<status> code, as msg.error keeps it', () => {
      const kind = (code: string): string => defaultClassifier({ message: 'failed', code }, NOW).kind;
      assert.equal(kind('HTTP_404'), 'permanent');
      assert.equal(kind('HTTP_422'), 'permanent');
      assert.equal(kind('HTTP_429'), 'retryable');
      assert.equal(kind('HTTP_408'), 'retryable');
      assert.equal(kind('HTTP_503'), 'retryable');
      assert.equal(defaultClassifier({ code: 'HTTP_404' }, NOW).reason, 'HTTP HTTP_404');
    });
  });

  describe('flags', () => {
    it('honours retryable and permanent flags before anything else', () => {
      const c = defaultClassifier({ status: 503, retryable: false }, NOW);
      assert.equal(c.kind, 'permanent');
      assert.equal(defaultClassifier({ code: 'ECONNRESET', permanent: true }, NOW).kind, 'permanent');
      const r = defaultClassifier(
        { status: 400, code: 'PEER_BUSY', retryable: true, retryAfterMs: 250 },
        NOW,
      );
      assert.deepEqual([r.kind, r.reason, r.retryAfterMs], ['retryable', 'PEER_BUSY', 250]);
      assert.equal(flagClassifier(new Error('plain'), NOW), undefined);
    });

    it('treats validation errors as permanent', () => {
      class ValidationError extends Error {
        override name = 'ValidationError';
      }
      assert.equal(defaultClassifier(new ValidationError('bad total'), NOW).kind, 'permanent');
      assert.equal(defaultClassifier({ code: 'OMS_VALIDATION_TOTALS', status: 503 }, NOW).kind, 'permanent');
      assert.equal(defaultClassifier(nodeRedCopy(new ValidationError('bad')), NOW).kind, 'permanent');
    });

    it('treats our circuit-open and timeout errors as retryable, by code alone too', () => {
      const open = defaultClassifier(new CircuitOpenError(12_000, 'fluent:https://h'), NOW);
      assert.deepEqual([open.kind, open.reason, open.retryAfterMs], ['retryable', 'circuit open', 12_000]);
      const copied = defaultClassifier(nodeRedCopy(new CircuitOpenError(12_000)), NOW);
      assert.deepEqual([copied.kind, copied.code], ['retryable', 'OMS_CIRCUIT_OPEN']);
      assert.equal(defaultClassifier({ code: 'OMS_TIMEOUT' }, NOW).kind, 'retryable');
    });

    it('classifies a RetryExhaustedError by its cause', () => {
      const last = withCode('read ECONNRESET', 'ECONNRESET');
      const exhausted = new RetryExhaustedError(
        'gave up',
        3,
        { kind: 'retryable', reason: 'ECONNRESET' },
        'attempts-exhausted',
        last,
      );
      assert.equal(defaultClassifier(exhausted, NOW).reason, 'ECONNRESET');
      assert.equal(defaultClassifier(nodeRedCopy(exhausted), NOW).reason, 'ECONNRESET');
    });
  });

  describe('composition', () => {
    it('lets the first classifier with an opinion win', () => {
      const c = composeClassifiers(
        () => undefined,
        () => ({ kind: 'permanent', reason: 'second' }),
        () => ({ kind: 'retryable', reason: 'third' }),
      );
      assert.equal(c({}, NOW).reason, 'second');
    });

    it('treats unknown errors as retryable by default, and can be told otherwise', () => {
      const c = defaultClassifier(new Error('something odd'), NOW);
      assert.deepEqual([c.kind, c.reason], ['retryable', 'unclassified error']);
      assert.equal(defaultClassifier('a string', NOW).kind, 'retryable');
      const strict = composeClassifiers(httpClassifier, unclassifiedAs('permanent'));
      assert.equal(strict(new Error('something odd'), NOW).kind, 'permanent');
      assert.equal(strict({ status: 503 }, NOW).kind, 'retryable');
    });

    it('falls back to the default when a custom classifier has no opinion', () => {
      assert.equal(classifyError({ status: 404 }, NOW, () => undefined).reason, 'HTTP 404');
      assert.equal(
        classifyError({ status: 404 }, NOW, () => ({ kind: 'retryable', reason: 'mine' })).reason,
        'mine',
      );
    });
  });

  describe('Node-RED msg.error and errorFromMessage', () => {
    it('classifies the plain msg.error copy of a node error', () => {
      const reset = nodeRedCopy(withCode('read ECONNRESET', 'ECONNRESET'));
      assert.equal(typeof reset.name, 'undefined');
      assert.equal(defaultClassifier(reset, NOW).reason, 'ECONNRESET');
      const fetchFailed = nodeRedCopy(new TypeError('fetch failed', { cause: { code: 'UND_ERR_SOCKET' } }));
      assert.equal(defaultClassifier(fetchFailed, NOW).reason, 'UND_ERR_SOCKET');
    });

    it('builds a classifiable error from a core http-request result', () => {
      const err = errorFromMessage({
        payload: 'slow down',
        statusCode: 429,
        headers: { 'retry-after': '7' },
      } as {
        statusCode: unknown;
        headers: unknown;
      });
      const c = defaultClassifier(err, NOW);
      assert.deepEqual([c.kind, c.reason, c.status, c.retryAfterMs], ['retryable', 'HTTP 429', 429, 7000]);
      assert.equal((err as { message: string }).message, 'HTTP 429');
    });

    it('returns undefined when nothing failed', () => {
      assert.equal(errorFromMessage({}), undefined);
      assert.equal(errorFromMessage({ statusCode: 200, headers: { 'retry-after': '7' } }), undefined);
      assert.equal(errorFromMessage({ statusCode: 304 }), undefined);
    });

    it('takes the errno code http-request puts in statusCode', () => {
      const err = errorFromMessage({ statusCode: 'ECONNREFUSED' });
      assert.equal(defaultClassifier(err, NOW).reason, 'ECONNREFUSED');
      const both = errorFromMessage({
        error: { message: 'Error: connect', code: 'ECONNRESET' },
        statusCode: 'ECONNREFUSED',
      });
      assert.equal((both as { code: string }).code, 'ECONNRESET');
    });

    it('keeps msg.error fields, including those of a real Error', () => {
      const real = Object.assign(new Error('Invalid total'), { code: 'OMS_VALIDATION_TOTAL' });
      const err = errorFromMessage({ error: real, statusCode: 503 }) as Record<string, unknown>;
      assert.equal(err.message, 'Invalid total');
      assert.equal(err.status, 503);
      assert.equal(defaultClassifier(err, NOW).kind, 'permanent');
      const own = errorFromMessage({ error: { message: 'x', status: 404 }, statusCode: 503 });
      assert.equal(defaultClassifier(own, NOW).reason, 'HTTP 404');
      assert.equal((errorFromMessage({ error: 'boom' }) as { message: string }).message, 'boom');
    });
  });
});
