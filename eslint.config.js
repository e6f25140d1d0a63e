// Typed lint rules: no floating promises, no misused promises, no `any` leaking from job data.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'tests/support/ferretdb/', 'coverage/', 'eslint.config.js', '.voxq/', 'tests/output/', '.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The voice console's browser modules (plain ES modules served as they are): no type information.
    files: ['assets/console/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window', 'document', 'navigator', 'location', 'localStorage', 'performance', 'fetch', 'atob', 'console',
          'setTimeout', 'clearTimeout', 'URL', 'URLSearchParams', 'FormData', 'Blob', 'EventSource', 'EventTarget',
          'CustomEvent', 'Option', 'HTMLElement', 'AudioContext', 'OfflineAudioContext', 'AudioWorkletNode', 'AudioWorkletProcessor',
          'registerProcessor', 'sampleRate',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
