// The send's side of the suppression list, in the caller's transaction: which recipients the sending inbox
// no longer mails, and the `suppressed` event recorded for each one left out of a queued message.
// A send whose every recipient is suppressed records no event: it is refused with 422 before any message
// exists, and an event belongs to a message (its history, its metrics). The 422 names each address and
// why; the audit log keeps the refused call with its status.
import type { Tx } from '../../_core/db.ts'
import { blockedAmong } from '../lists/blocked-recipients.ts'
import { recordDeliveryEvent } from './record.ts'

export interface SuppressedRecipient {
  id: string
  address: string
  reason: string
}

/** Suppressed recipients, and those on a block list (reason `blocked`, id the list entry's). */
export async function suppressedAmong(tx: Tx, inboxId: string, addresses: string[]): Promise<SuppressedRecipient[]> {
  if (!addresses.length) return []
  const suppressed = await tx<SuppressedRecipient[]>`
    select id::text, address, reason from agentry.email_suppressions
    where inbox_id = ${inboxId} and address = any(${addresses.map((a) => a.toLowerCase())}::text[])`
  const blocked = (await blockedAmong(tx, inboxId, addresses)).filter((b) => !suppressed.some((s) => s.address === b.address))
  return [...suppressed, ...blocked]
}

export async function recordSuppressed(
  tx: Tx,
  about: { orgId: string; inboxId: string; messageId: string },
  suppressed: SuppressedRecipient[],
): Promise<void> {
  for (const s of suppressed) {
    await recordDeliveryEvent(tx, {
      ...about,
      recipient: s.address,
      type: 'suppressed',
      detail: { suppression_id: s.id, reason: s.reason },
    })
  }
}
