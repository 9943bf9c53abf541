// Lint: the rules that catch what the compiler cannot. Formatting is Prettier's job
// (.prettierrc.json), type errors tsc's; both run inside `npm test` (npm run lint).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', 'test-artifacts/**', 'src/**/*.generated.js'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its rejection: an acknowledgement sent before a commit,
      // an unhandled rejection that ends the process.
      '@typescript-eslint/no-floating-promises': 'error',
      // A new enum member or union case must be handled wherever that type is switched on: a
      // `default` does not count as handling it (it would take the new case silently).
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: false, requireDefaultForNonUnion: false },
      ],
      // `_name` marks a value left out on purpose (a rest sibling, a callback's unused argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // A variable captured by a closure before its one assignment is not a constant.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests read JSON bodies and YAML documents of any shape.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // A synchronous child process blocks a test worker's event loop, and vitest's worker RPC
    // times out after 60 s: one slow enough (a JVM under load) ends the whole run with "Timeout
    // calling onTaskUpdate". Tests run processes with test/helpers/run.ts or spawn; a short
    // synchronous one (openssl, a CLI call of a second or two) says why it is short where it
    // is imported.
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:child_process', 'child_process'].map((name) => ({
            name,
            importNames: ['execSync', 'execFileSync', 'spawnSync'],
            message: 'it blocks the test worker (vitest RPC timeout): use runProcess() from test/helpers/run.ts',
          })),
        },
      ],
    },
  },
);
