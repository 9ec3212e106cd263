// `npm run console:assets`: bundles the console's page scripts into functions/console/assets.generated.ts.
// Run it after changing functions/console/client/; tests/console/assets.test.ts fails until it is run.
import fs from 'node:fs'
import { consoleAssetsFile, renderConsoleAssets } from './lib/console-assets.ts'

if (process.argv.includes('--help')) {
  console.log(
    'Usage: npm run console:assets\n\nBundles the console page scripts in functions/console/client/ into ' +
      'functions/console/assets.generated.ts, which the API serves as they are.',
  )
  process.exit(0)
}

fs.writeFileSync(consoleAssetsFile, await renderConsoleAssets())
console.log(`Wrote ${consoleAssetsFile}`)
