/** ${NAME} in a setting or credential is the environment variable NAME (DESIGN.md: secrets). */
export function fromEnv(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => process.env[name] ?? '');
}
