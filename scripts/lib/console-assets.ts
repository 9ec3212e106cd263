import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('../..', import.meta.url))
export const consoleClientDir = path.join(root, 'functions/console/client/pages')
export const consoleAssetsFile = path.join(root, 'functions/console/assets.generated.ts')

/**
 * The text of functions/console/assets.generated.ts: each page script (functions/console/client/pages/<name>.ts)
 * bundled with what it imports into one ES module, unminified so it reads as written, held as a string the
 * API serves at /console/assets/<name>.js. Generated so that the API needs no build step and no file access at
 * run time (Supabase deploys the function's imports, not loose files).
 */
export async function renderConsoleAssets(): Promise<string> {
  const names = fs
    .readdirSync(consoleClientDir)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.slice(0, -3))
    .sort()
  const scripts: Record<string, string> = {}
  for (const name of names) {
    const result = await build({
      entryPoints: [path.join(consoleClientDir, `${name}.ts`)],
      bundle: true,
      write: false,
      format: 'esm',
      target: 'es2022',
      platform: 'browser',
      legalComments: 'none',
      charset: 'utf8',
    })
    scripts[name] = result.outputFiles[0].text
  }
  // Template literals, so that each line of a script is a line of the file and a change reads as a small diff.
  const literal = (text: string) => `\`${text.replace(/[\\`]/g, (c) => `\\${c}`).replace(/\$\{/g, '\\${')}\``
  const entries = names.map((name) => `  ${JSON.stringify(name)}: ${literal(scripts[name])},`).join('\n')
  return `// Written by \`npm run console:assets\` from functions/console/client/pages/*.ts: edit those, then run it.\nexport const consoleScripts: Record<string, string> = {\n${entries}\n}\n`
}
