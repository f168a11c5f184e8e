// What the OMS nodes read from a failed message: msg.error as Node-RED's Catch node fills it
// (message, code, source; nothing else of the thrown error survives), plus the status and
// Retry-After the core HTTP Request node leaves on msg.
import type { ErrorInfo } from '../store';

export function errorInfoOf(msg: Record<string, unknown>): ErrorInfo | undefined {
  const raw = msg.error;
  const fromError = (msg.error as { status?: unknown } | null | undefined)?.status;
  const status =
    typeof msg.statusCode === 'number' && msg.statusCode >= 400
      ? msg.statusCode
      : typeof fromError === 'number' && fromError >= 400
        ? fromError
        : undefined;
  if (raw === undefined || raw === null) {
    return status
      ? { message: `HTTP ${status}${peerSays(msg.payload)}`, code: `HTTP_${status}`, status }
      : undefined;
  }
  if (typeof raw !== 'object') return { message: String(raw), ...(status ? { status } : {}) };
  const error = raw as Record<string, unknown>;
  // Node-RED stores err.toString(): "Error: peer refused" — the generic class name says nothing.
  const text = typeof error.message === 'string' ? error.message : String(error.message ?? 'error');
  const info: ErrorInfo = { message: text.replace(/^Error: /, '') };
  if (typeof error.code === 'string' || typeof error.code === 'number') info.code = String(error.code);
  else if (status) info.code = `HTTP_${status}`;
  if (status) info.status = status;
  const source = error.source;
  if (source && typeof source === 'object') {
    const { id, type, name } = source as Record<string, unknown>;
    info.source = {
      ...(typeof id === 'string' ? { id } : {}),
      ...(typeof type === 'string' ? { type } : {}),
      ...(typeof name === 'string' && name !== '' ? { name } : {}),
    };
  }
  return info;
}

/** What a peer's JSON error body says ({message, code} or {error}), for the analyst: ": … (CODE)". */
function peerSays(body: unknown): string {
  if (!body || typeof body !== 'object') return '';
  const { message, code, error } = body as Record<string, unknown>;
  const text = typeof message === 'string' ? message : typeof error === 'string' ? error : '';
  const tag = typeof code === 'string' && code !== '' ? ` (${code})` : '';
  return text || tag ? `: ${text}${tag}` : '';
}
