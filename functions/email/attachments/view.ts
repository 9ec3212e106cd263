import type { AttachmentView } from './schemas.ts'
import type { AttachmentRow } from './store.ts'

/** An attachment as the API shows it: never its bytes. */
export function attachmentView(row: AttachmentRow): AttachmentView {
  return {
    id: row.id,
    attachment_id: row.id,
    message_id: row.message_id,
    filename: row.filename,
    content_type: row.content_type,
    size: Number(row.size_bytes),
    sha256: row.sha256,
    content_id: row.content_id,
    created_at: new Date(row.created_at).toISOString(),
  }
}
