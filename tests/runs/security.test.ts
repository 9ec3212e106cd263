// The shared security table for every runs route, Connic's paths included.
import { afterAll, beforeAll } from 'vitest'
import { cancelRunRoute } from '../../functions/runs/cancel-run.ts'
import { getProjectRunRoute, getRunRoute } from '../../functions/runs/get-run.ts'
import { listRunsRoute } from '../../functions/runs/list-runs.ts'
import { runEventsRoute } from '../../functions/runs/run-events.ts'
import { triggerProjectRunRoute, triggerRunRoute } from '../../functions/runs/trigger-run.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { isolateDatabase, serviceSql, type Tenant } from '../harness/tenants.ts'

// A database of its own: no other file's job runner may execute (and so finish) the runs made here.
let drop: () => Promise<void>
let api: TestApi
beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  api = await startApi()
})
afterAll(async () => {
  await api?.close()
  await drop?.()
})

/** A run of t's agent (or other agent), queued, or already finished when `finished` is set. */
async function runOf(t: Tenant, which: 'agent' | 'otherAgent', finished = false): Promise<string> {
  const sql = serviceSql()
  const [run] = await sql<{ id: string }[]>`
    insert into agentry.runs (org_id, agent_id, message) values (${t.org.id}, ${t[which].id}, 'Summarise the report') returning id`
  if (finished) await sql`update agentry.runs set status = 'completed', output = 'Done.' where id = ${run.id}`
  return run.id
}

const run =
  (which: 'agent' | 'otherAgent', finished = false) =>
  async (t: Tenant) => ({ id: await runOf(t, which, finished) })
const projectRun = (which: 'agent' | 'otherAgent') => async (t: Tenant) => ({ org_id: t.org.id, run_id: await runOf(t, which) })
const body = { message: 'Summarise the latest sales report' }

describeSecurity(
  triggerRunRoute,
  { params: (t) => ({ id: t.agent.id }), otherAgentParams: (t) => ({ id: t.otherAgent.id }), body },
  () => api,
)
describeSecurity(
  triggerProjectRunRoute,
  {
    params: (t) => ({ org_id: t.org.id, agent_name: t.agent.name }),
    otherAgentParams: (t) => ({ org_id: t.org.id, agent_name: t.otherAgent.name }),
    body,
  },
  () => api,
)
describeSecurity(listRunsRoute, {}, () => api)
describeSecurity(getRunRoute, { params: run('agent'), otherAgentParams: run('otherAgent') }, () => api)
describeSecurity(getProjectRunRoute, { params: projectRun('agent'), otherAgentParams: projectRun('otherAgent') }, () => api)
describeSecurity(cancelRunRoute, { params: run('agent'), otherAgentParams: run('otherAgent') }, () => api)
describeSecurity(runEventsRoute, { params: run('agent', true), otherAgentParams: run('otherAgent', true) }, () => api)
