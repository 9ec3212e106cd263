// Which thread of the inbox a message belongs to: the one holding a message it refers to (References,
// In-Reply-To), else a recent thread on the same subject between the same people, else a new one. Always
// within the one inbox, so never across inboxes or organisations.
import { databaseNow } from '../../_core/clock.ts'
import type { Db } from '../../_core/db.ts'

/** How recent a thread's last message must be for a subject match to join it. */
export const subjectMatchDays = 30

export interface ThreadClues {
  inboxId: string
  inboxAddress: string
  inReplyTo: string | null
  references: string[]
  baseSubject: string
  /** The message's people (from, to, cc), lower-cased. */
  participants: string[]
}

export async function findThread(db: Db, clues: ThreadClues): Promise<string | null> {
  const ids = [...new Set([...(clues.inReplyTo ? [clues.inReplyTo] : []), ...clues.references])]
  if (ids.length > 0) {
    const [byReference] = await db<{ thread_id: string }[]>`
      select thread_id::text from agentry.email_messages
      where inbox_id = ${clues.inboxId} and message_id_header = any(${ids}::text[])
      order by created_at desc limit 1`
    if (byReference) return byReference.thread_id
  }
  // The inbox itself is on every thread of its own: only other people count as overlap.
  const others = clues.participants.filter((p) => p !== clues.inboxAddress)
  if (clues.baseSubject === '' || others.length === 0) return null
  const [bySubject] = await db<{ id: string }[]>`
    select id::text from agentry.email_threads
    where inbox_id = ${clues.inboxId} and base_subject = ${clues.baseSubject}
      and participants && ${others}::text[]
      and last_message_at > coalesce(${databaseNow()}::timestamptz, now()) - make_interval(days => ${subjectMatchDays})
    order by last_message_at desc limit 1`
  return bySubject?.id ?? null
}
