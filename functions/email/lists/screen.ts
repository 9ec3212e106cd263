// Inbound screening against the allow and block lists of the receiving inbox and of its organisation.
// Runs on the service connection (the SMTP ingress, the inbound webhook): the sender is a stranger.
//
// An allow entry wins over a block entry wherever each is (an inbox may let through one address of a
// domain its organisation blocks). In allow-list mode a sender on no allow list is treated as blocked.
// What happens to blocked mail is the inbox's `blocked_senders` setting: `refuse` (5xx, nothing stored)
// or `flag` (stored with the `blocked` label).
import type { Db } from '../../_core/db.ts'
import { entriesMatching } from './entry.ts'

export interface ScreenedInbox {
  id: string
  orgId: string
  blockedSenders: 'refuse' | 'flag'
  allowListOnly: boolean
}

export type Screening = { outcome: 'accept'; allowed: boolean } | { outcome: 'refuse' | 'flag'; reason: string }

/**
 * What the inbox does with mail from these senders (the envelope's MAIL FROM and the header From, when
 * known): any blocked one blocks the message; an allow entry for any of them lets it in.
 */
export async function screenSenders(
  db: Db,
  inbox: ScreenedInbox,
  senders: string[],
  options: { headerFromKnown: boolean } = { headerFromKnown: true },
): Promise<Screening> {
  const candidates = [...new Set(senders.filter((s) => s.length > 0).flatMap(entriesMatching))]
  const rows = candidates.length
    ? await db<{ list: 'allow' | 'block' }[]>`
        select list from agentry.email_sender_lists
        where org_id = ${inbox.orgId} and (inbox_id is null or inbox_id = ${inbox.id}) and entry = any(${candidates}::text[])`
    : []
  if (rows.some((r) => r.list === 'allow')) return { outcome: 'accept', allowed: true }
  // The reason reaches the sender in the SMTP reply: it names no entry of the list.
  if (rows.some((r) => r.list === 'block')) return { outcome: inbox.blockedSenders, reason: 'the sender is on a block list' }
  // At RCPT only the envelope sender is known, and a listed sender's mail often leaves through a provider
  // whose bounce address is not the sender's: allow-list mode waits for the header From.
  if (inbox.allowListOnly && options.headerFromKnown)
    return { outcome: inbox.blockedSenders, reason: 'the inbox accepts only senders on its allow list' }
  return { outcome: 'accept', allowed: false }
}
