// Reading the reports mail servers send back about our mail: delivery status notifications (RFC 3464,
// multipart/report; report-type=delivery-status) and feedback reports (ARF, RFC 5965, report-type=
// feedback-report). MIME parsing has been done already (the parts arrive as attachments); the report parts
// themselves are header blocks, read here. Everything in them comes from strangers: nothing is trusted
// beyond what it names, and what does not read as a report is no report.

export interface ReportPart {
  contentType: string
  content: Uint8Array
}

export interface RecipientStatus {
  /** Final-Recipient, lower-cased, without its address type. */
  recipient: string
  originalRecipient: string | null
  /** failed, delayed, delivered, relayed or expanded. */
  action: string
  /** The enhanced status code, e.g. 5.1.1. */
  status: string
  diagnosticCode: string | null
  remoteMta: string | null
}

export interface DeliveryStatusReport {
  kind: 'delivery-status'
  originalMessageId: string | null
  reportingMta: string | null
  recipients: RecipientStatus[]
}

export interface FeedbackReport {
  kind: 'feedback-report'
  originalMessageId: string | null
  feedbackType: string
  /** Original-Rcpt-To, else the returned message's To. */
  recipients: string[]
  userAgent: string | null
  sourceIp: string | null
}

export type DeliveryReport = DeliveryStatusReport | FeedbackReport

const maxHeaderBytes = 64 * 1024
const maxPartBytes = 256 * 1024
const maxRecipients = 100

type Fields = [name: string, value: string][]

/** Header blocks: `Name: value` lines, folded lines joined, blocks split at blank lines. */
export function headerBlocks(text: string): Fields[] {
  const blocks: Fields[] = []
  let fields: Fields = []
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '') {
      if (fields.length) blocks.push(fields)
      fields = []
    } else if (/^[ \t]/.test(line) && fields.length) {
      fields[fields.length - 1][1] += ` ${line.trim()}`
    } else {
      const colon = line.indexOf(':')
      if (colon > 0) fields.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()])
    }
  }
  if (fields.length) blocks.push(fields)
  return blocks
}

const field = (fields: Fields, name: string) => fields.find(([n]) => n === name)?.[1] ?? null
const fieldsNamed = (fields: Fields, name: string) => fields.filter(([n]) => n === name).map(([, v]) => v)

/** `rfc822; Ada@Example.com` or `<ada@example.com>` → `ada@example.com`; null for anything that is not an address. */
export function addressIn(value: string | null): string | null {
  if (!value) return null
  const bare = value
    .replace(/^[^;]*;/, '')
    .trim()
    .replace(/^<|>$/g, '')
    .trim()
    .toLowerCase()
  return /^[^\s@<>]+@[^\s@<>]+$/.test(bare) && bare.length <= 998 ? bare : null
}

/** A Message-ID without its angle brackets. */
function messageIdIn(value: string | null): string | null {
  const id = value?.match(/<([^<>\s]+)>/)?.[1] ?? value?.trim()
  return id && id.length <= 998 && !/\s/.test(id) ? id : null
}

const textOf = (bytes: Uint8Array, max = maxPartBytes) => new TextDecoder().decode(bytes.subarray(0, max))

/** The report type a message's top-level Content-Type announces, or null when it is no multipart/report. */
export function reportTypeOf(raw: Uint8Array): string | null {
  const head = textOf(raw, maxHeaderBytes)
  const end = head.search(/\r?\n\r?\n/)
  const [fields] = headerBlocks(end === -1 ? head : head.slice(0, end))
  const contentType = fields ? field(fields, 'content-type') : null
  if (!contentType || !/^\s*multipart\/report\b/i.test(contentType)) return null
  return contentType.match(/report-type\s*=\s*"?([\w-]+)"?/i)?.[1]?.toLowerCase() ?? null
}

/** The Message-ID of the returned original (message/rfc822 or text/rfc822-headers), when the report carries one. */
function returnedMessageId(parts: ReportPart[]): { messageId: string | null; to: string[] } {
  const returned = parts.find((p) => /^(message\/(rfc822|global)|text\/rfc822-headers|message\/global-headers)$/i.test(p.contentType))
  if (!returned) return { messageId: null, to: [] }
  const [fields] = headerBlocks(textOf(returned.content).split(/\r?\n\r?\n/)[0] ?? '')
  if (!fields) return { messageId: null, to: [] }
  const to = (field(fields, 'to') ?? '')
    .split(',')
    .map((a) => addressIn(a.match(/<([^>]*)>/)?.[1] ?? a))
    .filter((a) => a !== null)
  return { messageId: messageIdIn(field(fields, 'message-id')), to }
}

/**
 * The report in a received message, or null. `raw` is the whole message (its top-level Content-Type says
 * what kind of report it is), `parts` its MIME parts, `inReplyTo` its In-Reply-To: the last place to look
 * for the original's Message-ID.
 */
export function readDeliveryReport(raw: Uint8Array, parts: ReportPart[], inReplyTo: string | null): DeliveryReport | null {
  const type = reportTypeOf(raw)
  const returned = returnedMessageId(parts)
  if (type === 'delivery-status') {
    const part = parts.find((p) => /^message\/(global-)?delivery-status$/i.test(p.contentType))
    if (!part) return null
    const [perMessage, ...perRecipient] = headerBlocks(textOf(part.content))
    const recipients: RecipientStatus[] = []
    for (const fields of perRecipient.slice(0, maxRecipients)) {
      const recipient = addressIn(field(fields, 'final-recipient'))
      const action = field(fields, 'action')?.toLowerCase().split(/\s/)[0]
      const status = field(fields, 'status')?.match(/^[245]\.\d{1,3}\.\d{1,3}/)?.[0]
      if (!recipient || !action || !status) continue
      recipients.push({
        recipient,
        originalRecipient: addressIn(field(fields, 'original-recipient')),
        action,
        status,
        diagnosticCode: field(fields, 'diagnostic-code')?.slice(0, 1000) ?? null,
        remoteMta: field(fields, 'remote-mta')?.slice(0, 500) ?? null,
      })
    }
    if (!recipients.length) return null
    return {
      kind: 'delivery-status',
      originalMessageId: returned.messageId ?? messageIdIn(inReplyTo),
      reportingMta: perMessage ? (field(perMessage, 'reporting-mta')?.slice(0, 500) ?? null) : null,
      recipients,
    }
  }
  if (type === 'feedback-report') {
    const part = parts.find((p) => /^message\/feedback-report$/i.test(p.contentType))
    if (!part) return null
    const fields = headerBlocks(textOf(part.content)).flat()
    const feedbackType = field(fields, 'feedback-type')?.toLowerCase()
    if (!feedbackType) return null
    const named = fieldsNamed(fields, 'original-rcpt-to')
      .map(addressIn)
      .filter((a) => a !== null)
    return {
      kind: 'feedback-report',
      originalMessageId: returned.messageId ?? messageIdIn(field(fields, 'original-message-id')) ?? messageIdIn(inReplyTo),
      feedbackType: feedbackType.slice(0, 100),
      recipients: (named.length ? named : returned.to).slice(0, maxRecipients),
      userAgent: field(fields, 'user-agent')?.slice(0, 500) ?? null,
      sourceIp: field(fields, 'source-ip')?.slice(0, 100) ?? null,
    }
  }
  return null
}
