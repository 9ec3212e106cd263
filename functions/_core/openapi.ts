import { apiBasePath, gatewayPrefix, type Api } from './server.ts'
import { registerDocsPage } from './docs-page.ts'

/** Serves the generated OpenAPI 3.1 document and an interactive page that renders it. */
export function registerDocs(v1: Api) {
  v1.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description:
      'An organisation token (`pk_…`), an agent key (`ck_live_…`, `ck_test_…`) or a Supabase Auth access token. ' +
      'Each operation lists the one scope it requires; `*`, `*:read` and `*:write` cover every section.',
  })
  v1.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Agentry API',
      version: '1.0.0',
      description:
        'Scoped API keys, agents and chat, conversations, knowledge bases, datasets, runs, email and webhooks. ' +
        'Success bodies are `{ "data": … }`; errors are `{ "error": { "message", "code" } }`. Every response carries ' +
        '`x-request-id` and, once authenticated, `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`.',
    },
    // The public path on Supabase and on the local dev server alike.
    servers: [{ url: gatewayPrefix + apiBasePath }],
    security: [{ bearerAuth: [] }],
  })
  registerDocsPage(v1)
}
