import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [
      { find: /^lifecheck$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^lifecheck\/models$/, replacement: fileURLToPath(new URL('./models/index.ts', import.meta.url)) },
    ],
  },
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, maxWorkers: 2 },
});
