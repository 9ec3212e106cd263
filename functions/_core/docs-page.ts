import { swaggerUI } from '@hono/swagger-ui'
import type { Api } from './server.ts'
import { swaggerUiFiles, swaggerUiVersion } from './swagger-ui.generated.ts'

type SwaggerUiFile = keyof typeof swaggerUiFiles

/** Where the page's assets live, relative to /docs; the version in the path lets browsers keep them for good. */
const assetDir = `docs/swagger-ui-dist@${swaggerUiVersion}`

/**
 * The interactive reference at /docs. Swagger UI's stylesheet and script are served by the API itself, from
 * the copy embedded in swagger-ui.generated.ts, so the page works offline, behind a proxy and air-gapped.
 */
export function registerDocsPage(v1: Api) {
  v1.get('/docs', swaggerUI({ url: './openapi.json', title: 'Agentry API', baseUrl: './docs', version: swaggerUiVersion }))
  for (const name of Object.keys(swaggerUiFiles) as SwaggerUiFile[]) {
    v1.get(`/${assetDir}/${name}`, async () => {
      return new Response(await unpacked(name), {
        headers: {
          'content-type': swaggerUiFiles[name].type,
          'cache-control': 'public, max-age=31536000, immutable',
        },
      })
    })
  }
}

const cache = new Map<SwaggerUiFile, Promise<ArrayBuffer>>()

/** Each file is unzipped once per process, on its first request, with Web APIs that Node and Deno share. */
function unpacked(name: SwaggerUiFile): Promise<ArrayBuffer> {
  let file = cache.get(name)
  if (!file) {
    const gzipped = Uint8Array.from(atob(swaggerUiFiles[name].gzipBase64), (c) => c.charCodeAt(0))
    file = new Response(new Blob([gzipped]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer()
    cache.set(name, file)
  }
  return file
}
