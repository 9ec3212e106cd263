import type { Tx } from '../../_core/db.ts'
import { ApiError, notFound } from '../../_core/errors.ts'

export interface InboxRow {
  id: string
  address: string
  local_part: string
  domain: string
  domain_id: string | null
  name: string | null
  agent_id: string | null
  status: 'active' | 'disabled'
  requires_approval: boolean
  webhook_endpoint_id: string | null
  extraction_schema: { name: string; description: string | null; schema: Record<string, unknown>; enabled: boolean } | null
  created_at: string
  updated_at: string
}

const inboxColumns = (tx: Tx) => tx`
  i.id, i.address, i.local_part, i.domain, i.domain_id, i.name, i.agent_id, i.status, i.requires_approval, i.webhook_endpoint_id,
  i.extraction_schema, to_json(i.created_at) #>> '{}' as created_at, to_json(i.updated_at) #>> '{}' as updated_at`

const position = (tx: Tx) => tx`to_char(i.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || i.id as position`

/** The caller's domain (name and status), whatever scopes its key holds for domains; else 404. */
export async function requireDomainOf(tx: Tx, id: string): Promise<{ id: string; name: string; status: string }> {
  const [domain] = await tx<{ id: string; name: string; status: string }[]>`select * from agentry.claimed_email_domain(${id})`
  if (!domain) throw notFound('Domain')
  return domain
}

/** Newest first, on every domain or one (`domainId`); RLS decides which inboxes an agent key sees (its own). */
export function listInboxes(tx: Tx, q: { limit: number; cursor?: string; domainId?: string }) {
  const [at, id] = q.cursor?.split('_') ?? []
  return tx<(InboxRow & { position: string })[]>`
    select ${inboxColumns(tx)}, ${position(tx)} from agentry.email_inboxes i
    where true ${q.domainId ? tx`and i.domain_id = ${q.domainId}` : tx``}
      ${q.cursor ? tx`and (i.created_at, i.id) < (${at}::timestamptz, ${id}::uuid)` : tx``}
    order by i.created_at desc, i.id desc
    limit ${q.limit + 1}`
}

/** The inbox, or 404; under a domain's path, only an inbox of that domain. */
export async function requireInbox(tx: Tx, id: string, options: { domainId?: string; lock?: boolean } = {}): Promise<InboxRow> {
  const [row] = await tx<InboxRow[]>`
    select ${inboxColumns(tx)} from agentry.email_inboxes i
    where i.id = ${id} ${options.domainId ? tx`and i.domain_id = ${options.domainId}` : tx``}
    ${options.lock ? tx`for update` : tx``}`
  if (!row) throw notFound('Inbox')
  return row
}

const addressTaken = (address: string) => new ApiError('conflict', `The address ${address} is already taken.`)

export async function insertInbox(
  tx: Tx,
  i: {
    orgId: string
    domainId: string | null
    domain: string
    localPart: string
    name: string | null
    agentId: string | null
    requiresApproval: boolean
  },
): Promise<InboxRow> {
  const address = `${i.localPart}@${i.domain}`
  const [row] = await tx<InboxRow[]>`
    insert into agentry.email_inboxes as i (org_id, domain_id, domain, local_part, name, agent_id, requires_approval)
    values (${i.orgId}, ${i.domainId}, ${i.domain}, ${i.localPart}, ${i.name}, ${i.agentId}, ${i.requiresApproval})
    returning ${inboxColumns(tx)}`.catch((error: { code?: string }) => {
    if (error.code === '23505') throw addressTaken(address)
    // The composite foreign key (agent_id, org_id) fails for an agent of another organisation.
    if (error.code === '23503') throw notFound('Agent')
    throw error
  })
  return row
}

export interface InboxChanges {
  local_part?: string
  name?: string | null
  status?: 'active' | 'disabled'
  requires_approval?: boolean
  webhook_endpoint_id?: string | null
  extraction_schema?: InboxRow['extraction_schema']
}

export async function updateInbox(tx: Tx, id: string, changes: InboxChanges, domain: string): Promise<InboxRow> {
  const set: Record<string, unknown> = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined))
  if ('extraction_schema' in set && set.extraction_schema !== null) set.extraction_schema = tx.json(set.extraction_schema as never)
  if (Object.keys(set).length === 0) return requireInbox(tx, id)
  const [row] = await tx<InboxRow[]>`
    update agentry.email_inboxes i set ${tx(set, ...(Object.keys(set) as never[]))} where i.id = ${id}
    returning ${inboxColumns(tx)}`.catch((error: { code?: string }) => {
    if (error.code === '23505') throw addressTaken(`${changes.local_part}@${domain}`)
    throw error
  })
  if (!row) throw notFound('Inbox')
  return row
}

export async function deleteInbox(tx: Tx, id: string): Promise<void> {
  await tx`delete from agentry.email_inboxes where id = ${id}`
}
