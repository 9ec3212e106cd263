// `npm run console:assets`: bundles the console's page scripts into functions/console/assets.generated.ts.
import fs from 'node:fs'
import { consoleAssetsFile, renderConsoleAssets } from './lib/console-assets.ts'

fs.writeFileSync(consoleAssetsFile, await renderConsoleAssets())
console.log(`Wrote ${consoleAssetsFile}`)
