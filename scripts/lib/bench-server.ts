// The server `npm run bench` loads, run as a process of its own so that the memory it reports is the
// server's alone: the real API and, beside it, a bare Hono route running the same SQL as GET /agent/api-keys
// on the service connection (no key check, no rate limit, no transaction, no RLS). PORT says where to
// listen; the parent is told over IPC once the port is open.
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { closeDatabase, database } from '../../functions/_core/db.ts'
import { app } from '../../functions/app.ts'
import { listKeys } from '../../functions/keys/queries.ts'

const bare = new Hono().get('/bare/keys', async (c) => c.json({ data: await listKeys(database()) }))

const port = Number(process.env.PORT)
if (!Number.isInteger(port) || port <= 0) throw new Error('PORT is not set')

serve(
  {
    fetch: (request, env) => (new URL(request.url).pathname.startsWith('/bare/') ? bare : app).fetch(request, env),
    hostname: '127.0.0.1',
    port,
  },
  () => process.send?.({ listening: port }),
)

process.on('SIGTERM', () => {
  void closeDatabase().finally(() => process.exit(0))
})
