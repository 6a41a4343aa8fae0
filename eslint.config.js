import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  // The UI's one browser script.
  { files: ['src/ui/static/**/*.js'], languageOptions: { globals: { ...globals.browser } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // The layers of docs/architecture.md: the database knows nothing of the features built on it.
  {
    files: ['src/db/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/features/**', '**/ui/**', '**/http/**', '**/cli/**'], message: 'db/ is the lowest layer' },
          ],
        },
      ],
    },
  },
  // …and the features know nothing of the pages drawn from them.
  {
    files: ['src/features/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/ui/**'], message: 'features/ are below ui/' }] }],
    },
  },
  // …and the pages draw the features' views, never the database's rows.
  {
    files: ['src/ui/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/db/**', '**/catalogue.js', '**/*-store.js'],
              message: 'ui/ reads through features/fleet/fleet-reader.ts',
            },
          ],
        },
      ],
    },
  },
);
