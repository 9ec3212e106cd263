// A send leaves out recipients on a block list of the sending inbox or its organisation, as it leaves out
// suppressed ones (reason `blocked`), unless an allow entry names them too. Read as the caller: RLS keeps
// the lists to the caller's organisation.
import type { Tx } from '../../_core/db.ts'
import { entriesMatching } from './entry.ts'

export interface BlockedRecipient {
  /** The block list entry that matched. */
  id: string
  address: string
  reason: 'blocked'
}

export async function blockedAmong(tx: Tx, inboxId: string, addresses: string[]): Promise<BlockedRecipient[]> {
  const wanted = [...new Set(addresses.map((a) => a.toLowerCase()))]
  const candidates = [...new Set(wanted.flatMap(entriesMatching))]
  if (!candidates.length) return []
  const rows = await tx<{ id: string; list: 'allow' | 'block'; entry: string }[]>`
    select id::text, list, entry from agentry.email_sender_lists
    where (inbox_id is null or inbox_id = ${inboxId}) and entry = any(${candidates}::text[])
    order by created_at, id`
  return wanted.flatMap((address) => {
    const matching = new Set(entriesMatching(address))
    const hits = rows.filter((r) => matching.has(r.entry))
    const block = hits.find((r) => r.list === 'block')
    return block && !hits.some((r) => r.list === 'allow') ? [{ id: block.id, address, reason: 'blocked' as const }] : []
  })
}
