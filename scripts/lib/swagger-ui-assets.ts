import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

/** What the /docs page needs from swagger-ui-dist: its stylesheet, its bundle, and the bundle's licence notices. */
export const swaggerUiFileTypes = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-bundle.js.LICENSE.txt': 'text/plain; charset=utf-8',
} as const

export type SwaggerUiFileName = keyof typeof swaggerUiFileTypes

export interface InstalledSwaggerUi {
  version: string
  files: Record<SwaggerUiFileName, string>
}

/**
 * Reads those files from the installed package. The stylesheet's source-map comment is dropped: the map is
 * not served, and a browser with its developer tools open would otherwise ask for it and log a 404.
 */
export function readInstalledSwaggerUi(): InstalledSwaggerUi {
  const dir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }
  const files = Object.fromEntries(
    Object.keys(swaggerUiFileTypes).map((name) => [name, withoutSourceMap(fs.readFileSync(path.join(dir, name), 'utf8'))]),
  ) as Record<SwaggerUiFileName, string>
  return { version, files }
}

function withoutSourceMap(text: string): string {
  return text.replace(/\n?\/[/*]# sourceMappingURL=\S+?(\*\/)?\s*$/, '\n')
}
