import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'examples/**', 'node_modules/**', '.node-red/**', '.bench/**', '.ci/nr5/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      // Peer answers and request fields are unknown values turned into text on purpose, signals
      // reject with their reason (a DOMException), and methods passed on are bound or static:
      // these three would flag that house style, not bugs.
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/unbound-method': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The store's ports are async by contract (a PostgreSQL store must fit them) although SQLite
    // answers synchronously; sandboxes and tests implement async interfaces the same way.
    files: ['lib/store/**/*.ts', 'sandbox/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // Layers (DESIGN.md): the domain core knows neither Node-RED nor the sandboxes.
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'node-red', message: 'lib/ is the domain core: no Node-RED there (DESIGN.md, layers).' },
          ],
          patterns: [
            {
              group: ['@node-red/*'],
              message: 'lib/ is the domain core: no Node-RED there (DESIGN.md, layers).',
            },
            { group: ['**/sandbox', '**/sandbox/**'], message: 'lib/ must not depend on the sandboxes.' },
            {
              group: ['**/nodes/**', '**/plugins/**'],
              message: 'lib/ must not depend on the node adapters.',
            },
          ],
        },
      ],
    },
  },
  {
    // Sandboxes stand in for peers: they may share lib/'s types, never the node adapters.
    files: ['sandbox/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'node-red', message: 'A sandbox is a peer, not a Node-RED node.' }],
          patterns: [
            {
              group: ['**/nodes/**', '**/plugins/**'],
              message: 'A sandbox must not depend on the node adapters.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/**/*.js', '.ci/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
