// The server `npm run bench` loads, run as a process of its own so that the memory it reports is the
// server's alone: the real API and, beside it, bare Hono routes running the same SQL as the API on the
// service connection (no key check, no rate limit, no transaction, no RLS): /bare/keys as GET
// /agent/api-keys, /bare/rows/:id as GET /datasets/:id/rows. /bare/plain-rows/:id answers the bench's row
// query from a plain table holding the same rows (bench-rows.ts) with the SQL PostgREST runs. /bare/tenant-keys runs GET /agent/api-keys's
// query in the same tenant transaction under RLS, with fixed claims (BENCH_ORG_ID, BENCH_KEY_ID) and no key
// check or rate limit: what the API costs beyond it is authentication's. /bare/request-path says how many
// statements the request path has sent. PORT says where to listen; the parent is told over IPC once the
// port is open. SIGTERM and SIGINT stop it as `npm start` stops: usage counts written, leased tokens back.
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { closeDatabase, database, withTenant, type TenantClaims } from '../../functions/_core/db.ts'
import { requestPathStatements } from '../../functions/_core/request-path.ts'
import type { RowShape } from '../../functions/_core/postgrest/fields.ts'
import { selectedColumns } from '../../functions/_core/postgrest/select-order.ts'
import { maxRequestHeaderBytes } from '../../functions/_core/postgrest/parse.ts'
import { app } from '../../functions/app.ts'
import { useResolver } from '../../functions/email/domains/dns.ts'
import { parseRowRequest, rawQuery } from '../../functions/datasets/row-request.ts'
import { listKeys } from '../../functions/keys/queries.ts'
import { bareRowStatements, plainRowsStatement, plainSchema } from './bench-rows.ts'
import { nodeResolver } from './node-resolver.ts'

// Domain verification asks DNS as `npm start` does.
useResolver(nodeResolver())

const datasets = new Map<string, RowShape>()
const plainColumns = new Map<string, string>()

async function datasetShape(id: string): Promise<RowShape> {
  let dataset = datasets.get(id)
  if (!dataset) {
    ;[dataset] = await database()<RowShape[]>`select id, name, columns, open from agentry.datasets where id = ${id}`
    datasets.set(id, dataset)
  }
  return dataset
}

const tenant: TenantClaims = {
  role: 'authenticated',
  sub: null,
  org_id: process.env.BENCH_ORG_ID ?? '00000000-0000-0000-0000-000000000000',
  agent_id: null,
  key_id: process.env.BENCH_KEY_ID ?? null,
  scopes: ['*'],
}

const bare = new Hono()
  .get('/bare/keys', async (c) => c.json({ data: await listKeys(database()) }))
  .get('/bare/tenant-keys', async (c) => c.json({ data: await withTenant(tenant, (tx) => listKeys(tx)) }))
  .get('/bare/request-path', (c) => c.json({ statements: requestPathStatements() }))
  .get('/bare/rows/:id', async (c) => {
    const dataset = await datasetShape(c.req.param('id'))
    const { query } = parseRowRequest(c.req.url)
    // The statements the API runs, on the pool rather than in a tenant transaction.
    const [[{ rows }], [{ total }]] = await Promise.all(
      bareRowStatements(dataset, rawQuery(c.req.url)).map((st) => database().unsafe(st.text, st.params, { prepare: false })),
    )
    return c.body(`{"data":{"rows":${rows},"total":${total},"columns":${JSON.stringify(selectedColumns(dataset, query.select))}}}`, 200, {
      'content-type': 'application/json; charset=utf-8',
    })
  })

  // The query is always the bench's: PostgREST's statement for it, with no parsing of the query string.
  .get('/bare/plain-rows/:id', async (c) => {
    const id = c.req.param('id')
    let columns = plainColumns.get(id)
    if (columns === undefined) {
      columns = JSON.stringify(selectedColumns(await datasetShape(id), parseRowRequest(c.req.url).query.select))
      plainColumns.set(id, columns)
    }
    const st = plainRowsStatement(`${plainSchema}."${id}"`)
    // Prepared, as PostgREST prepares its statements by default.
    const [{ body, total_result_set: total }] = await database().unsafe(st.text, st.params, { prepare: true })
    return c.body(`{"data":{"rows":${body},"total":${total},"columns":${columns}}}`, 200, {
      'content-type': 'application/json; charset=utf-8',
    })
  })

const port = Number(process.env.PORT)
if (!Number.isInteger(port) || port <= 0) throw new Error('PORT is not set')

serve(
  {
    fetch: (request, env) => (new URL(request.url).pathname.startsWith('/bare/') ? bare : app).fetch(request, env),
    hostname: '127.0.0.1',
    port,
    serverOptions: { maxHeaderSize: maxRequestHeaderBytes },
  },
  () => process.send?.({ listening: port }),
)

const stop = () => void closeDatabase().finally(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
