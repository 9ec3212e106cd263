import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { consoleAssetsFile, renderConsoleAssets } from '../../scripts/lib/console-assets.ts'

describe('the console bundles', () => {
  it('are built from the page scripts as they are now (run `npm run console:assets` after editing them)', async () => {
    expect(fs.readFileSync(consoleAssetsFile, 'utf8')).toBe(await renderConsoleAssets())
  })
})
