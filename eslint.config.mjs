// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * What workflow code (and the shared code it imports) may use: an allow-list, so a new import is
 * refused until someone decides it is deterministic and free of I/O.
 */
const WORKFLOW_PACKAGES = '@temporalio/(?:workflow|common)';
/** The pure part of shared/: contracts, domain types, errors, search-attribute keys, pure helpers. */
const PURE_SHARED = '(?:contracts/[^/]+|domain|errors|search-attributes|temporal-ui|durations)';
const builtins = builtinModules.filter((name) => !name.startsWith('_')).flatMap((name) => [name, `node:${name}`]);
const noBuiltins = builtins.map((name) => ({ name, message: 'no Node built-ins here: workflow code is replayed (deterministic, no I/O)' }));

/** The import rules of workflow files `depth` folders below the repository root. */
function workflowFence(files, depth) {
  const root = '\\.\\./'.repeat(depth);
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: noBuiltins,
          patterns: [
            { regex: `^(?!${WORKFLOW_PACKAGES}$)(?!\\.\\.?/)`, message: 'workflows may import only @temporalio/workflow, @temporalio/common, their own modules and the pure part of shared/' },
            { regex: `^${root}shared/(?!${PURE_SHARED}$)`, message: 'only the pure part of shared/ (contracts, domain, errors, search-attributes, temporal-ui, durations): the rest does I/O' },
            { regex: `^${root}activities/`, message: 'import activities with `import type` only (call them through proxyActivities)', allowTypeImports: true },
            { regex: `^${root}(?:api|workers|simulators|scripts|bench|cli|test|templates|config)/`, message: 'not allowed in workflow code' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'use sleep() from @temporalio/workflow' }, { name: 'setInterval', message: 'use sleep() in a loop' }, { name: 'fetch', message: 'I/O belongs in activities' }],
    },
  };
}

export default tseslint.config(
  // native/: C addons; their JavaScript is a one-line loader of the built .node file.
  { ignores: ['node_modules/', 'dist/', '.data/', '.tools/', 'tmp/', 'native/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  // Workflow code is replayed: it must stay deterministic and free of side effects.
  workflowFence(['workflows/*.ts'], 1),
  workflowFence(['workflows/*/*.ts'], 2),
  {
    // The shared code workflows import is held to the same allow-list, so the fence has no back door.
    files: ['shared/contracts/**/*.ts', 'shared/domain.ts', 'shared/errors.ts', 'shared/search-attributes.ts', 'shared/temporal-ui.ts', 'shared/durations.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: noBuiltins,
          patterns: [
            { regex: `^(?!${WORKFLOW_PACKAGES}$)(?!\\.\\.?/)`, message: 'pure shared code imports only @temporalio/workflow or @temporalio/common: workflows import it' },
            // Types erase at compile time: a schema's inferred type may be shared without its code.
            { regex: `^\\.\\./(?!${PURE_SHARED.replace('contracts/[^/]+|', '')}$)`, message: 'pure shared code imports only other pure shared modules (types from anywhere)', allowTypeImports: true },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
