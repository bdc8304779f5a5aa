// Lint: typescript-eslint's recommended rules, plus the wall between synth-time and run-time code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const runtimeOnly = '^(@aws-sdk/|@aws-lambda-powertools/|@smithy/|aws-lambda$)';
const synthOnly = '^(aws-cdk-lib($|/)|constructs$|cdk-nag$)';

// lib/: one error type, and every default in lib/core/defaults.ts (AWS's limits in lib/core/limits.ts).
const throwOnlyKitErrors = {
  selector: "ThrowStatement > NewExpression[callee.name!='MessagingPatternsError']",
  message: 'lib/ throws MessagingPatternsError only (through PropsValidator or MessagingPatternsError.fail).',
};
const durationsInDefaults = {
  selector: "CallExpression[callee.object.name='Duration'][arguments.0.type='Literal']",
  message: 'A literal duration is a default or a limit: name it in lib/core/defaults.ts (with its reason) or lib/core/limits.ts.',
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist.staging-*/**',
      'cdk.out/**',
      'node_modules/**',
      'coverage/**',
      '.venv-localstack/**',
      '.localstack/**',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        setImmediate: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='only'][callee.object.name=/^(it|describe|test)$/]",
          message: 'No .only in tests.',
        },
      ],
    },
  },
  {
    // Synth-time code: no AWS SDK, no Powertools, no handler code.
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: runtimeOnly, message: 'lib/ is synth-time code: run-time packages belong in lambda/.' },
            { regex: '^(\\.\\./)+lambda(/|$)', message: 'lib/ must not import handler code: point lambda.Code at the bundle instead.' },
          ],
        },
      ],
      'no-restricted-syntax': ['error', throwOnlyKitErrors, durationsInDefaults],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    files: ['lib/core/defaults.ts', 'lib/core/limits.ts'],
    rules: { 'no-restricted-syntax': ['error', throwOnlyKitErrors] },
  },
  {
    // The names both worlds share: imported by lib/ and lambda/, so it imports nothing itself.
    files: ['lib/core/wire.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportDeclaration', message: 'lib/core/wire.ts is imported by both lib/ and lambda/: it imports nothing.' },
      ],
    },
  },
  {
    // Run-time code: no CDK.
    files: ['lambda/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: synthOnly, message: 'lambda/ is run-time code: CDK packages belong in lib/.' },
            {
              regex: '^(\\.\\./)+lib/(?!core/wire$)',
              message: 'lambda/ must not import synth-time code (only lib/core/wire, the names both sides share).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    languageOptions: { sourceType: 'module' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**/*.ts', 'integration/**/*.ts', 'bin/**/*.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
);
