// Types shared by several ports.

/** What is kept of an error: enough to classify it and to explain it to an analyst. */
export interface ErrorInfo {
  message: string;
  code?: string;
  status?: number;
  source?: { id?: string; type?: string; name?: string };
}

export interface Page<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
}
