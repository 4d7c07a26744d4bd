import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests start child processes and servers; two cores on CI.
    pool: 'forks',
    reporters: ['default'],
  },
})
