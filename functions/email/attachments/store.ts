// Where attachments' bytes live. Locally, and by default, in Postgres beside their metadata (bytea); a
// deployment that keeps files elsewhere (Supabase Storage) supplies a store of its own with the same two
// operations, the metadata row staying in email_attachments either way.
import type { Db, Tx } from '../../_core/db.ts'

export interface NewAttachment {
  filename: string
  contentType: string
  content: Uint8Array
  sha256: string
}

export interface AttachmentRow {
  id: string
  org_id: string
  message_id: string | null
  filename: string
  content_type: string
  size_bytes: number
  sha256: string
  content_id: string | null
  created_at: string
}

export interface AttachmentStore {
  /** Stores an uploaded attachment in the tenant's transaction, under RLS; returns its row. */
  save(tx: Tx, attachment: NewAttachment): Promise<AttachmentRow>
  /** An attachment's bytes, read on the service connection by one that has already checked the right to them. */
  content(db: Db, orgId: string, id: string): Promise<Uint8Array | null>
}

const columns = 'id, org_id, message_id, filename, content_type, size_bytes, sha256, content_id, created_at'

export const postgresAttachmentStore: AttachmentStore = {
  async save(tx, a) {
    const [row] = await tx.unsafe<AttachmentRow[]>(
      `insert into agentry.email_attachments (org_id, agent_id, filename, content_type, size_bytes, sha256, content)
       values (agentry.claim_org_id(), agentry.claim_agent_id(), $1, $2, $3, $4, $5)
       returning ${columns}`,
      [a.filename, a.contentType, a.content.length, a.sha256, a.content as never],
    )
    return row
  },
  async content(db, orgId, id) {
    const [row] = await db<{ content: Uint8Array | null }[]>`
      select content from agentry.email_attachments where id = ${id} and org_id = ${orgId}`
    return row?.content ? new Uint8Array(row.content) : null
  },
}

/** An attachment's metadata as the tenant may see it (RLS decides), or undefined. */
export async function findAttachment(tx: Tx, id: string): Promise<AttachmentRow | undefined> {
  const [row] = await tx.unsafe<AttachmentRow[]>(`select ${columns} from agentry.email_attachments where id = $1`, [id])
  return row
}

/** The metadata of an attachment of the organisation, on the service connection (the download route has no tenant). */
export async function findAttachmentOf(db: Db, orgId: string, id: string): Promise<AttachmentRow | undefined> {
  const [row] = await db.unsafe<AttachmentRow[]>(`select ${columns} from agentry.email_attachments where id = $1 and org_id = $2`, [
    id,
    orgId,
  ])
  return row
}
