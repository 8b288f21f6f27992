// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'coverage/**', 'docs/**', 'local/console/static/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Core logic is pure: no AWS SDK, no adapters, no functions or infra, no environment, no clock.
    files: ['shared/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@aws-sdk/*', '@aws-lambda-powertools/*', '@middy/*', 'aws-cdk-lib', 'aws-cdk-lib/*'], message: 'shared/core is pure: no AWS SDK, Powertools or middy.' },
            { group: ['**/adapters/**', '**/functions/**', '**/infra/**', '**/local/**', '**/config/**'], message: 'shared/core imports nothing outside shared/core.' },
            { group: ['node:fs', 'node:fs/*', 'node:http', 'node:https', 'node:net', 'node:child_process', 'fs', 'http', 'https'], message: 'shared/core does no I/O.' },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'shared/core reads no environment: take configuration as arguments.' },
        { object: 'Date', property: 'now', message: 'shared/core reads no clock: take a Clock or a time argument.' },
      ],
      'no-restricted-globals': ['error', { name: 'fetch', message: 'shared/core does no I/O.' }],
    },
  },
  {
    // Adapters never reach up into functions or infra.
    files: ['shared/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/functions/**', '**/infra/**', '**/local/**'], message: 'Dependencies point one way: functions → adapters → core.' }] }],
    },
  },
);
