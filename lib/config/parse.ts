// Validates the JSON configs analysts write in edit dialogs (routing, fraud rules): every problem
// comes back with a path the editor can point at; nothing is defaulted silently.
import type { z } from 'zod';

/** One problem in a config: where (`strategies[0].criteria[1].max`) and what is wrong. */
export interface ConfigError {
  path: string;
  message: string;
}

export function pathText(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${String(s)}` : String(s);
  return out;
}

/** `json` is an object, or its JSON text as the editor's JSON field holds it. */
export function parseJsonConfig<S extends z.ZodType>(
  schema: S,
  json: unknown,
): { config: z.infer<S> } | { errors: ConfigError[] } {
  let input = json;
  if (typeof json === 'string') {
    try {
      input = JSON.parse(json);
    } catch (err) {
      return { errors: [{ path: '', message: `not valid JSON: ${(err as Error).message}` }] };
    }
  }
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return { config: parsed.data };
  const errors: ConfigError[] = [];
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        errors.push({ path: pathText([...issue.path, key]), message: `unknown field "${key}"` });
      }
      continue;
    }
    let message = issue.message;
    // A record key (a currency code, say) that its schema refuses: say what the key must be.
    if (issue.code === 'invalid_key') message = issue.issues[0]?.message ?? message;
    if (issue.input === undefined && issue.code === 'invalid_type') message = 'is required';
    if (issue.input === undefined && issue.code === 'invalid_union') {
      message = 'discriminator' in issue ? `is required and ${message}` : 'is required';
    }
    errors.push({ path: pathText(issue.path), message });
  }
  return { errors };
}
