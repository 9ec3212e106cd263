// A raw message read into the fields we store, each bounded and free of what Postgres cannot hold (NUL),
// whatever the sender put in it: headers and addresses come from strangers.
import PostalMime, { type Address, type Email } from 'postal-mime'
import { type HeaderField, isAutoReply } from './auto-reply.ts'
import { baseSubject } from './base-subject.ts'
import { extractNewContent } from './extracted-text.ts'

export interface ParsedAttachment {
  filename: string
  contentType: string
  contentId: string | null
  content: Uint8Array
}

export interface ParsedMessage {
  /** Without angle brackets; derived from the raw bytes when the message has none, so a resend is the same message. */
  messageId: string
  inReplyTo: string | null
  references: string[]
  from: { address: string; name: string | null } | null
  to: string[]
  cc: string[]
  /** Delivered-To: where a forwarding provider says the message was for. */
  deliveredTo: string[]
  replyTo: string[]
  subject: string
  baseSubject: string
  text: string
  html: string | null
  extractedText: string
  isAutoReply: boolean
  sentAt: Date | null
  attachments: ParsedAttachment[]
}

export class UnreadableMessage extends Error {
  override name = 'UnreadableMessage'
}

const maxIdChars = 500
const maxAddresses = 500
const maxReferences = 100
const maxSubjectChars = 998
const maxFilenameChars = 255
/**
 * The new content kept for reading and search: a message's full text stays in `text`, but the search
 * index over extracted_text (a tsvector, at most 1 MB) cannot hold hundreds of thousands of distinct words.
 */
export const maxExtractedChars = 100_000

export async function parseMessage(raw: Uint8Array): Promise<ParsedMessage> {
  let email: Email
  try {
    email = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer', maxNestingDepth: 50 })
  } catch (error) {
    throw new UnreadableMessage(`The message could not be parsed as MIME: ${error instanceof Error ? error.message : String(error)}`)
  }
  const headers: HeaderField[] = email.headers.map((h) => ({ key: h.key, value: h.value }))
  const from = firstMailbox(email.from)
  const text = clean(email.text ?? (email.html ? textOfHtml(email.html) : ''))
  const subject = clean(email.subject ?? '').slice(0, maxSubjectChars)
  return {
    messageId: messageIdOf(email.messageId) ?? (await derivedMessageId(raw)),
    inReplyTo: messageIdsIn(email.inReplyTo ?? '')[0] ?? null,
    references: messageIdsIn(email.references ?? '').slice(-maxReferences),
    from,
    to: addressesOf(email.to),
    cc: addressesOf(email.cc),
    deliveredTo: email.deliveredTo ? [normalAddress(email.deliveredTo)] : [],
    replyTo: addressesOf(email.replyTo),
    subject,
    baseSubject: baseSubject(subject),
    text,
    html: email.html ? clean(email.html) : null,
    extractedText: extractNewContent(text).slice(0, maxExtractedChars),
    isAutoReply: isAutoReply(headers),
    sentAt: validDate(email.date),
    attachments: email.attachments.map((a, i) => ({
      filename: clean(a.filename ?? '').slice(0, maxFilenameChars) || `attachment-${i + 1}`,
      contentType: clean(a.mimeType || 'application/octet-stream').slice(0, 255),
      contentId: a.contentId ? clean(a.contentId).replace(/^<|>$/g, '').slice(0, maxIdChars) : null,
      content: bytesOf(a.content),
    })),
  }
}

/** Text Postgres can store: no NUL characters. */
export function clean(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text
}

function messageIdOf(value: string | undefined): string | null {
  return messageIdsIn(value ?? '')[0] ?? (value && clean(value).trim() ? clean(value).trim().slice(0, maxIdChars) : null)
}

/** The ids in a References or In-Reply-To field: `<…>` tokens, or bare words when a client left out the brackets. */
export function messageIdsIn(field: string): string[] {
  const value = clean(field)
  const bracketed = [...value.matchAll(/<([^<>\s]{1,998})>/g)].map((m) => m[1])
  const ids = bracketed.length > 0 ? bracketed : value.split(/\s+/).filter((w) => w.includes('@'))
  return [...new Set(ids.map((id) => id.slice(0, maxIdChars)))]
}

async function derivedMessageId(raw: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', raw as Uint8Array<ArrayBuffer>))
  return `${[...digest].map((b) => b.toString(16).padStart(2, '0')).join('')}@no-message-id.invalid`
}

function firstMailbox(address: Address | undefined): ParsedMessage['from'] {
  const mailbox = address?.address !== undefined ? address : address?.group?.[0]
  if (!mailbox?.address) return null
  return { address: normalAddress(mailbox.address), name: clean(mailbox.name ?? '').slice(0, 320) || null }
}

function addressesOf(list: Address[] | undefined): string[] {
  const out = new Set<string>()
  for (const a of list ?? []) {
    for (const m of a.group ?? [a]) if (m.address) out.add(normalAddress(m.address))
    if (out.size >= maxAddresses) break
  }
  return [...out].slice(0, maxAddresses)
}

export function normalAddress(address: string): string {
  return clean(address).trim().toLowerCase().slice(0, 320)
}

function validDate(value: string | undefined): Date | null {
  if (!value) return null
  const d = new Date(value)
  // A date Postgres could not store would make the message unstorable for good.
  return Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1 || d.getUTCFullYear() > 9999 ? null : d
}

function bytesOf(content: ArrayBuffer | Uint8Array | string): Uint8Array {
  if (typeof content === 'string') return new TextEncoder().encode(content)
  return content instanceof Uint8Array ? content : new Uint8Array(content)
}

/** Enough text from an HTML-only message for threading, search and the snippet. */
function textOfHtml(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<br\s*\/?>|<\/(p|div|li|tr|h\d)>/gi, '\n')
    .replace(/<blockquote[\s\S]*?<\/blockquote>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
}
