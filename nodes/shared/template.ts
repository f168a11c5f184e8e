/** msg.oms.template ({name, version}) as "name@version", the form the audit trail keeps. */
export function formatTemplate(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { name, version } = value as { name?: unknown; version?: unknown };
  if (typeof name !== 'string' || name === '') return undefined;
  return typeof version === 'string' && version !== '' ? `${name}@${version}` : name;
}
