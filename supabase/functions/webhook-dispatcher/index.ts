// The webhook dispatcher as a Supabase Edge Function, invoked every few seconds by pg_cron through pg_net
// (see the README). Each invocation dispatches due deliveries until none are left or its time is nearly up;
// any number may overlap, as they share the queue through FOR UPDATE SKIP LOCKED. Only a caller with
// WEBHOOK_DISPATCHER_SECRET may run it.
import { database } from '../../../functions/_core/db.ts'
import { readEnv } from '../../../functions/_core/env.ts'
import { privateNetworksAllowed } from '../../../functions/_core/outbound.ts'
import { refuseWithoutSecret } from '../../../functions/_core/service-secret.ts'
import { dispatchBatch } from '../../../functions/webhooks/dispatcher.ts'
import { denoTransport } from './deno-transport.ts'

const transport = denoTransport({ allowPrivate: privateNetworksAllowed(readEnv) })
const budgetMs = Number(readEnv('WEBHOOK_DISPATCH_BUDGET_MS') ?? 20_000)

async function handle(request: Request): Promise<Response> {
  const refused = await refuseWithoutSecret(request, 'WEBHOOK_DISPATCHER_SECRET', 'dispatcher')
  if (refused) return refused
  const deadline = Date.now() + budgetMs
  let dispatched = 0
  while (Date.now() < deadline) {
    // Each attempt may take up to the timeout: leave room for it within the budget.
    const claimed = await dispatchBatch(database(), { transport, timeoutMs: Math.min(15_000, Math.max(1000, deadline - Date.now())) })
    dispatched += claimed
    if (claimed === 0) break
  }
  return Response.json({ data: { dispatched } })
}

const port = Deno.env.get('PORT')
if (port) Deno.serve({ port: Number(port), hostname: Deno.env.get('HOST') ?? '127.0.0.1', onListen: () => {} }, handle)
else Deno.serve(handle)
