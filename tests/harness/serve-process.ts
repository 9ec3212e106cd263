// Serves the app in a process of its own on PORT, for tests that need several API processes at once.
import { serve } from '@hono/node-server'
import { app } from '../../functions/app.ts'
import { nodeWebSockets } from '../../scripts/lib/node-websocket.ts'

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT), websocket: nodeWebSockets() }, () => {
  process.stdout.write('listening\n')
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
