import type postgres from 'postgres'
import { afterAll, beforeAll } from 'vitest'
import { closeDatabase, database } from '../../functions/_core/db.ts'
import type { Transport } from '../../functions/_core/outbound.ts'
import { dispatchBatch, type DispatchOptions } from '../../functions/webhooks/dispatcher.ts'
import { generateSecret } from '../../functions/webhooks/signing.ts'
import { nodeTransport } from '../../scripts/lib/node-transport.ts'
import { startApi, type TestApi } from './api.ts'
import { type Answer, type Receiver, startReceiver } from './receiver.ts'
import { isolateDatabase, serviceSql, type Tenant } from './tenants.ts'

export interface EndpointOptions {
  url?: string
  events?: string[]
  filters?: Record<string, string>
  agent?: 'agent' | 'otherAgent'
  enabled?: boolean
}

/** A webhook endpoint of the tenant's, made straight in the database. */
export async function createEndpoint(t: Tenant, o: EndpointOptions = {}): Promise<{ id: string; secret: string }> {
  const sql = serviceSql()
  const agentId = o.agent === 'agent' ? t.agent.id : o.agent === 'otherAgent' ? t.otherAgent.id : null
  const secret = generateSecret()
  const [row] = await sql<{ id: string }[]>`
    insert into agentry.webhook_endpoints (org_id, agent_id, url, events, filters, enabled, secret)
    values (${t.org.id}, ${agentId}, ${o.url ?? 'http://127.0.0.1:9/hooks'}, ${o.events ?? ['*']}, ${sql.json(o.filters ?? {})},
      ${o.enabled ?? true}, ${secret})
    returning id`
  return { id: row.id, secret }
}

/** A delivery of the tenant's: a test event to a fresh endpoint. */
export async function createDelivery(t: Tenant, o: EndpointOptions = {}): Promise<{ id: string; endpointId: string }> {
  const sql = serviceSql()
  const endpoint = await createEndpoint(t, o)
  const agentId = o.agent === 'agent' ? t.agent.id : o.agent === 'otherAgent' ? t.otherAgent.id : null
  const [event] = await sql<{ id: string }[]>`
    insert into agentry.events (org_id, agent_id, type, data, endpoint_id)
    values (${t.org.id}, ${agentId}, 'webhook.test', '{"message":"test"}', ${endpoint.id}) returning id`
  const [delivery] = await sql<{ id: string }[]>`select id from agentry.webhook_deliveries where event_id = ${event.id}`
  return { id: delivery.id, endpointId: endpoint.id }
}

/** What a webhook test file shares: a database of its own, the receivers it started, and an API if it asked for one. */
export interface WebhookSuite {
  /** The file's own database (its dispatchers' work is not another file's). */
  readonly db: { url: string }
  /** The API, served on loopback; only when the suite was asked for one. */
  readonly api: TestApi
  /** The Node transport, allowed to reach receivers on loopback. */
  readonly transport: Transport
  /** A receiver on loopback, closed after the file: by default it answers 200 "ok". */
  receiver(answer?: Answer | Receiver['answer']): Promise<Receiver>
  /** Runs dispatcher passes until one claims nothing: everything due has been attempted. Returns how many were claimed. */
  dispatchAllDue(options?: Partial<DispatchOptions>): Promise<number>
}

/**
 * Sets up a webhook test file: its own database before the tests (and an API on it with `api: true`), and
 * after them the receivers, the API and the database gone. Receivers may be on loopback, as in tests only.
 */
export function webhookSuite(o: { api?: boolean } = {}): WebhookSuite {
  process.env.WEBHOOK_ALLOW_PRIVATE = 'true'
  let db: Awaited<ReturnType<typeof isolateDatabase>> | undefined
  let api: TestApi | undefined
  const receivers: Receiver[] = []
  const transport = nodeTransport({ allowPrivate: true })
  beforeAll(async () => {
    db = await isolateDatabase()
    if (o.api) api = await startApi()
  })
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()))
    await api?.close()
    await closeDatabase()
    await db?.drop()
  })
  // The API as a handle usable at a file's top level; it answers once the suite has started it.
  const served = (): TestApi => {
    if (!api) throw new Error('webhookSuite({ api: true }) serves an API, once its tests start')
    return api
  }
  return {
    get db() {
      if (!db) throw new Error('the database is made before the tests')
      return db
    },
    api: {
      get base() {
        return served().base
      },
      call: (...args) => served().call(...args),
      close: () => served().close(),
    },
    transport,
    async receiver(answer) {
      const r = await startReceiver()
      if (typeof answer === 'function') r.answer = answer
      else if (answer) r.answer = () => answer
      receivers.push(r)
      return r
    },
    async dispatchAllDue(options = {}) {
      let claimed = 0
      for (let pass = 0; pass < 20; pass++) {
        const n = await dispatchBatch(database(), { transport, timeoutMs: 2000, ...options })
        if (n === 0) return claimed
        claimed += n
      }
      throw new Error('deliveries were still due after 20 dispatcher passes')
    },
  }
}

/** `count` test events addressed to the endpoints in turn, in one statement: one delivery each. */
export async function queueTestEvents(t: Tenant, endpointIds: string[], count: number): Promise<void> {
  await serviceSql()`
    insert into agentry.events (org_id, type, data, endpoint_id)
    select ${t.org.id}, 'webhook.test', jsonb_build_object('n', g), (${endpointIds}::uuid[])[1 + g % ${endpointIds.length}]
    from generate_series(1, ${count}) g`
}

/**
 * How many entries of one of the deliveries table's indexes the transaction's scans have returned so far
 * (index entries a scan stepped over as dead are not counted): what a statement read, as a difference.
 */
export async function indexEntriesRead(tx: postgres.TransactionSql, index: string): Promise<number> {
  const [row] = await tx<{ n: number }[]>`select pg_stat_get_xact_tuples_returned(${`agentry.${index}`}::regclass)::integer as n`
  return row.n
}
