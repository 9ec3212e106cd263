// The raw MIME of an outbound message, built with nodemailer's MailComposer (which imports node:stream,
// node:crypto, node:fs and node:buffer: Node, Deno and Supabase's edge runtime all provide them). Bcc is never written
// into the message: its recipients are reached through the envelope alone.
import { Buffer } from 'node:buffer'
import { formatMailbox, type Mailbox } from './addresses.ts'

export interface OutboundMail {
  messageId: string
  from: Mailbox
  to: Mailbox[]
  cc: Mailbox[]
  replyTo: Mailbox[]
  subject: string
  text: string | null
  html: string | null
  inReplyTo: string | null
  references: string[]
  date: Date
  attachments: { filename: string; contentType: string; content: Uint8Array; contentId: string | null }[]
}

const listOf = (boxes: Mailbox[]) => (boxes.length ? boxes.map(formatMailbox) : undefined)
const bracketed = (id: string) => `<${id}>`

export async function composeMime(mail: OutboundMail): Promise<Uint8Array> {
  // Loaded on first use: nodemailer costs an API process about 15 MB, and most never send mail.
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer')
  const composer = new MailComposer({
    messageId: bracketed(mail.messageId),
    date: mail.date,
    from: formatMailbox(mail.from),
    to: listOf(mail.to),
    cc: listOf(mail.cc),
    replyTo: listOf(mail.replyTo),
    subject: mail.subject,
    text: mail.text ?? undefined,
    html: mail.html ?? undefined,
    inReplyTo: mail.inReplyTo ? bracketed(mail.inReplyTo) : undefined,
    references: mail.references.length ? mail.references.map(bracketed).join(' ') : undefined,
    attachments: mail.attachments.map((a) => ({
      filename: a.filename || undefined,
      contentType: a.contentType,
      content: Buffer.from(a.content.buffer, a.content.byteOffset, a.content.byteLength),
      cid: a.contentId ?? undefined,
      // A forwarded message is an attachment to open, not a part to show in the body (nodemailer's default for it).
      contentDisposition: a.contentType === 'message/rfc822' ? 'attachment' : undefined,
    })),
  })
  const built = await composer.compile().build()
  return new Uint8Array(built.buffer, built.byteOffset, built.byteLength)
}
