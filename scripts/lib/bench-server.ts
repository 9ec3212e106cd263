// The server `npm run bench` loads, run as a process of its own so that the memory it reports is the
// server's alone: the real API and, beside it, bare Hono routes running the same SQL as the API on the
// service connection (no key check, no rate limit, no transaction, no RLS): /bare/keys as GET
// /agent/api-keys, /bare/rows/:id as GET /datasets/:id/rows. PORT says where to listen; the parent is told
// over IPC once the port is open.
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { closeDatabase, database } from '../../functions/_core/db.ts'
import { selectedColumns, type RowShape } from '../../functions/_core/postgrest/compile.ts'
import { maxRequestHeaderBytes } from '../../functions/_core/postgrest/parse.ts'
import { app } from '../../functions/app.ts'
import { parseRowRequest, rawQuery } from '../../functions/datasets/row-request.ts'
import { listKeys } from '../../functions/keys/queries.ts'
import { bareRowStatements } from './bench-rows.ts'

const datasets = new Map<string, RowShape>()

const bare = new Hono()
  .get('/bare/keys', async (c) => c.json({ data: await listKeys(database()) }))
  .get('/bare/rows/:id', async (c) => {
    const id = c.req.param('id')
    let dataset = datasets.get(id)
    if (!dataset) {
      ;[dataset] = await database()<RowShape[]>`select id, name, columns, open from agentry.datasets where id = ${id}`
      datasets.set(id, dataset)
    }
    const { query } = parseRowRequest(c.req.url)
    // The statements the API runs, on the pool rather than in a tenant transaction.
    const [[{ rows }], [{ total }]] = await Promise.all(
      bareRowStatements(dataset, rawQuery(c.req.url)).map((st) => database().unsafe(st.text, st.params, { prepare: false })),
    )
    return c.body(`{"data":{"rows":${rows},"total":${total},"columns":${JSON.stringify(selectedColumns(dataset, query.select))}}}`, 200, {
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

process.on('SIGTERM', () => {
  void closeDatabase().finally(() => process.exit(0))
})
