// What the list routes share: the entry as the body gave it, checked, and the inbox a route names.
import type { Tx } from '../../_core/db.ts'
import { ApiError, notFound } from '../../_core/errors.ts'
import { normalEntry } from './entry.ts'
import { inboxExists } from './queries.ts'

export function entryFrom(body: { entry: string }): string {
  const entry = normalEntry(body.entry)
  if (!entry) throw new ApiError('validation_failed', 'entry: use an address (ann@example.com) or a domain (example.com).')
  return entry
}

export async function requireInbox(tx: Tx, inboxId: string): Promise<void> {
  if (!(await inboxExists(tx, inboxId))) throw notFound('Inbox')
}
