import type { Tx } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import type { Checks } from './records.ts'

export interface DomainRow {
  id: string
  name: string
  status: 'pending' | 'verified' | 'failed'
  dkim_selector: string
  dkim_public_key: string
  checks: Checks
  verified_at: string | null
  created_at: string
  updated_at: string
}

// Never the private key: tenants hold no grant on that column, and no route asks for it.
const domainColumns = (tx: Tx) => tx`
  d.id, d.name, d.status, d.dkim_selector, d.dkim_public_key, d.checks, to_json(d.verified_at) #>> '{}' as verified_at,
  to_json(d.created_at) #>> '{}' as created_at, to_json(d.updated_at) #>> '{}' as updated_at`

const position = (tx: Tx) => tx`to_char(d.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || d.id as position`

export function listDomains(tx: Tx, q: { limit: number; cursor?: string }) {
  const [at, id] = q.cursor?.split('_') ?? []
  return tx<(DomainRow & { position: string })[]>`
    select ${domainColumns(tx)}, ${position(tx)} from agentry.email_domains d
    where true ${q.cursor ? tx`and (d.created_at, d.id) < (${at}::timestamptz, ${id}::uuid)` : tx``}
    order by d.created_at desc, d.id desc
    limit ${q.limit + 1}`
}

export async function requireDomain(tx: Tx, id: string, options: { lock?: boolean } = {}): Promise<DomainRow> {
  const [row] = await tx<DomainRow[]>`
    select ${domainColumns(tx)} from agentry.email_domains d where d.id = ${id} ${options.lock ? tx`for update` : tx``}`
  if (!row) throw notFound('Domain')
  return row
}

export async function insertDomain(
  tx: Tx,
  d: { orgId: string; name: string; selector: string; privateKeyPem: string; publicKey: string },
): Promise<DomainRow> {
  const [row] = await tx<DomainRow[]>`
    insert into agentry.email_domains as d (org_id, name, dkim_selector, dkim_private_key, dkim_public_key)
    values (${d.orgId}, ${d.name}, ${d.selector}, ${d.privateKeyPem}, ${d.publicKey})
    returning ${domainColumns(tx)}`
  return row
}

/** Stores a verification's outcome; the domain is verified while its required records all pass. */
export async function recordVerification(tx: Tx, id: string, checks: Checks, verified: boolean): Promise<DomainRow> {
  const [row] = await tx<DomainRow[]>`
    update agentry.email_domains d
    set checks = ${tx.json(checks as never)}, status = ${verified ? 'verified' : 'failed'},
      verified_at = case when ${verified} then coalesce(d.verified_at, now()) else null end
    where d.id = ${id}
    returning ${domainColumns(tx)}`
  return row
}
