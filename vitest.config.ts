import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests start child processes and servers; two cores on CI.
    pool: 'forks',
    // Two files at a time even on two cores (vitest's default is one fewer than the cores: one file at
    // a time there): most of the suite waits on child processes, servers and PostgreSQL, not on the
    // CPU. test/e2e on a loaded 2-core machine: 309 s with one worker, 215 s with two.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // GitHub's workflow parser imports its schema JSON without an import attribute, which Node
    // refuses; letting Vite transform it handles the JSON.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
    reporters: ['default'],
  },
})
