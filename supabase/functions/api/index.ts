// The Supabase Edge Function entry: the same runtime-neutral app the Node dev server serves.
// `supabase functions deploy api` uploads this file and every relative import it reaches (the app under
// ../../../functions/), and resolves npm packages through ./deno.json.
import { upgradeWebSocket } from 'hono/deno'
import { closeDatabase } from '../../../functions/_core/db.ts'
import { app } from '../../../functions/app.ts'
import { useWebSocketUpgrade } from '../../../functions/events/socket-upgrade.ts'

// The event stream's WebSocket route, upgraded as Deno does.
useWebSocketUpgrade(upgradeWebSocket)

const port = Deno.env.get('PORT')
if (port) {
  // Local runs (npm run start:deno, tests) choose the address; the Edge Runtime chooses its own.
  const server = Deno.serve({ port: Number(port), hostname: Deno.env.get('HOST') ?? '127.0.0.1', onListen: () => {} }, app.fetch)
  // Stopped as `npm start` stops: usage counts written and leased tokens given back before the pools close.
  // The Edge Runtime ends isolates its own way, with beforeunload (see request-path.ts).
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    void server.shutdown()
    void closeDatabase().finally(() => Deno.exit(0))
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    try {
      Deno.addSignalListener(signal, stop)
    } catch {
      // Windows has no SIGTERM to listen for; Ctrl-C (SIGINT) still stops cleanly there.
    }
  }
} else {
  Deno.serve(app.fetch)
}
