import type { DraftRow } from './queries.ts'

/** A draft as the API shows it: the send's field names. */
export function draftView(row: DraftRow) {
  return {
    id: row.id,
    inbox_id: row.inbox_id,
    thread_id: row.thread_id,
    status: row.status,
    to: row.to_addresses,
    cc: row.cc_addresses,
    bcc: row.bcc_addresses,
    reply_to: row.reply_to,
    from: row.from_address,
    subject: row.subject,
    text: row.text,
    html: row.html,
    attachments: row.attachments,
    send_at: row.send_at,
    agent_id: row.agent_id,
    message_id: row.message_id,
    sent_at: row.sent_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  }
}
