// The job runner as a Supabase Edge Function, invoked every few seconds by pg_cron through pg_net (see the
// README). Each invocation runs due jobs (knowledge indexing, …) until none is due or its time is nearly up;
// jobs still running then go back to the queue. Any number may overlap: they share the queue through
// FOR UPDATE SKIP LOCKED. Only a caller with JOB_WORKER_SECRET may run it.
import { database } from '../../../functions/_core/db.ts'
import { readEnv } from '../../../functions/_core/env.ts'
import { runJobBatch } from '../../../functions/_core/jobs/runner.ts'
import { refuseWithoutSecret } from '../../../functions/_core/service-secret.ts'
import { jobHandlers } from '../../../functions/jobs.ts'

const budgetMs = Number(readEnv('JOB_WORKER_BUDGET_MS') ?? 20_000)
const concurrency = Number(readEnv('JOB_CONCURRENCY') ?? 4)

async function handle(request: Request): Promise<Response> {
  const refused = await refuseWithoutSecret(request, 'JOB_WORKER_SECRET', 'worker')
  if (refused) return refused
  const { claimed } = await runJobBatch(database(), {
    handlers: jobHandlers,
    budgetMs,
    concurrency,
    onError: (error) => console.error('jobs:', error instanceof Error ? error.message : error),
  })
  return Response.json({ data: { claimed } })
}

const port = Deno.env.get('PORT')
if (port) Deno.serve({ port: Number(port), hostname: Deno.env.get('HOST') ?? '127.0.0.1', onListen: () => {} }, handle)
else Deno.serve(handle)
