import { afterAll, beforeAll } from 'vitest'
import { forwardMessageRoute } from '../../../functions/email/replies/forward-message.ts'
import { replyToMessageRoute } from '../../../functions/email/replies/reply-message.ts'
import { startApi, type TestApi } from '../../harness/api.ts'
import { describeSecurity } from '../../harness/security.ts'
import { isolateDatabase, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { victim } from '../../harness/victim.ts'
import { markVictimMail, seedInbox, seedThread } from '../mail.ts'

// The shared security checks of both routes, with no job runner: a runner would also do the database's other
// work (the audit log's hash chain among it) while the checks compare another organisation's rows before and
// after. A database of its own, so that no other file's runner delivers what these requests queue.
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

const remote = (name: string) => `${name}@remote.example`

/** A received message of t's, in an inbox of the agent named (the organisation's when none); the victim's marked one for the victim. */
async function messageOf(owner: Tenant, agent?: 'agent' | 'otherAgent'): Promise<{ id: string }> {
  const sql = serviceSql()
  if ((await victim()).tenant.org.id === owner.org.id) {
    const { threadId } = await markVictimMail()
    const [row] = await sql<{ id: string }[]>`select id from agentry.email_messages where thread_id = ${threadId}`
    return { id: row.id }
  }
  const own = await seedInbox(owner, { agent })
  const thread = await seedThread(owner.org.id, own.id, 'Hello', [
    { from: remote('someone'), to: [own.address], text: 'Hello there', at: new Date().toISOString() },
  ])
  return { id: thread.messageIds[0] }
}

describeSecurity(
  replyToMessageRoute,
  { params: (owner) => messageOf(owner), otherAgentParams: (owner) => messageOf(owner, 'otherAgent'), body: { text: 'Thanks.' } },
  () => api,
)
describeSecurity(
  forwardMessageRoute,
  {
    params: (owner) => messageOf(owner),
    otherAgentParams: (owner) => messageOf(owner, 'otherAgent'),
    body: { to: remote('someone-else') },
  },
  () => api,
)
