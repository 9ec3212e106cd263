// The Supabase Edge Function entry: the same runtime-neutral app the Node dev server serves.
// `supabase functions deploy api` uploads this file and every relative import it reaches (the app under
// ../../../functions/), and resolves npm packages through ./deno.json.
import { app } from '../../../functions/app.ts'

const port = Deno.env.get('PORT')
if (port) {
  // Local runs (npm run start:deno, tests) choose the address; the Edge Runtime chooses its own.
  Deno.serve({ port: Number(port), hostname: Deno.env.get('HOST') ?? '127.0.0.1', onListen: () => {} }, app.fetch)
} else {
  Deno.serve(app.fetch)
}
