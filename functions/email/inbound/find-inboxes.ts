// Which addresses are inboxes here: the SMTP ingress asks at RCPT, so mail for anyone else is refused
// before its body is sent. Service connection: the address is all a sender knows.
import type { Db } from '../../_core/db.ts'
import { normalAddress } from './parse-message.ts'

export interface InboxRecipient {
  id: string
  orgId: string
  address: string
  agentId: string | null
  extractionEnabled: boolean
  domain: string
  /** What becomes of mail from a blocked sender: refused at SMTP time, or stored and flagged. */
  blockedSenders: 'refuse' | 'flag'
  allowListOnly: boolean
  spamThreshold: number
}

/** The active inboxes among the addresses, in no particular order; unknown or disabled ones are left out. */
export async function findInboxesByAddress(sql: Db, addresses: string[]): Promise<InboxRecipient[]> {
  const wanted = [...new Set(addresses.map(normalAddress))].filter((a) => a.length > 0)
  if (wanted.length === 0) return []
  const rows = await sql<
    {
      id: string
      org_id: string
      address: string
      agent_id: string | null
      extraction: boolean
      domain: string
      blocked_senders: 'refuse' | 'flag'
      allow_list_only: boolean
      spam_threshold: number
    }[]
  >`
    select id::text, org_id::text, address, agent_id::text,
           coalesce(extraction_schema -> 'enabled' = 'true'::jsonb, false) as extraction,
           domain, blocked_senders, allow_list_only, spam_threshold::float8 as spam_threshold
    from agentry.email_inboxes
    where address = any(${wanted}::text[]) and status = 'active'`
  return rows.map((r) => ({
    id: r.id,
    orgId: r.org_id,
    address: r.address,
    agentId: r.agent_id,
    extractionEnabled: r.extraction,
    domain: r.domain,
    blockedSenders: r.blocked_senders,
    allowListOnly: r.allow_list_only,
    spamThreshold: r.spam_threshold,
  }))
}
