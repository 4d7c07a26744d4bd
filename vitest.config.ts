import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests start child processes and servers; two cores on CI.
    pool: 'forks',
    // GitHub's workflow parser imports its schema JSON without an import attribute, which Node
    // refuses; letting Vite transform it handles the JSON.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
    reporters: ['default'],
  },
})
