// POST /inbound/mime: where a mail provider's inbound webhook (or our own SMTP ingress on another host)
// hands over a raw message. Not an API-key route and not an operation of the OpenAPI document: the caller
// is a service holding INBOUND_SECRET (checked in constant time), and the body may be far larger than the
// API's 1 MB cap (the server lets this path through up to inboundBodyBytes; the route bounds it exactly).
import type { Api } from '../../_core/server.ts'
import { readCappedBody } from '../../_core/capped-body.ts'
import { database } from '../../_core/db.ts'
import { ApiError } from '../../_core/errors.ts'
import { refuseWithoutSecret } from '../../_core/service-secret.ts'
import { maxMessageBytes } from './limits.ts'
import { parseMessage } from './parse-message.ts'
import { MessageTooLarge, receiveMime, type ReceiveOptions, UnreadableMessage } from './receive-mime.ts'

export const inboundMimePath = '/inbound/mime'

/** The most a request to this route may carry: the message cap in base64 inside JSON. */
export function inboundBodyBytes(): number {
  return Math.ceil(maxMessageBytes() * 1.34) + 64 * 1024
}

export function registerInboundMime(app: Api, options: ReceiveOptions = {}) {
  app.post(inboundMimePath, async (c) => {
    const refused = await refuseWithoutSecret(c.req.raw, 'INBOUND_SECRET', 'inbound mail')
    if (refused) return refused
    const { raw, envelope } = await readSubmission(c.req.raw)
    try {
      const result = await receiveMime(database(), { raw, envelope, source: 'webhook' }, options)
      if (result.accepted.length === 0) {
        throw new ApiError('not_found', `No inbox here for ${result.rejected.join(', ') || 'any recipient of the message'}.`)
      }
      return c.json({
        data: {
          accepted: result.accepted.map((a) => ({ inbox_id: a.inboxId, message_id: a.messageId, thread_id: a.threadId })),
          rejected: result.rejected,
        },
      })
    } catch (error) {
      if (error instanceof MessageTooLarge) throw tooLarge(error.limit)
      if (error instanceof UnreadableMessage) throw new ApiError('bad_request', error.message.slice(0, 500))
      throw error
    }
  })
}

interface Submission {
  raw: Uint8Array
  envelope: { from: string | null; to: string[] }
}

/**
 * `message/rfc822` (the recipients from `?to=` — repeatable — or else from the message's own To, Cc and
 * Delivered-To) or JSON `{ raw_base64, envelope: { from, to } }`.
 */
async function readSubmission(request: Request): Promise<Submission> {
  const limit = maxMessageBytes()
  const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase()
  if (type === 'application/json') {
    // Base64 is a third larger than what it carries.
    const body = parseJson(await readCappedBody(request, inboundBodyBytes(), () => tooLarge(limit)))
    const raw = decodeBase64(body.raw_base64, limit)
    const to = body.envelope?.to
    const from = body.envelope?.from
    const recipients = typeof to === 'string' ? [to] : Array.isArray(to) ? to.filter((t): t is string => typeof t === 'string') : null
    return { raw, envelope: { from: typeof from === 'string' ? from : null, to: recipients ?? (await headerRecipients(raw)) } }
  }
  if (type !== 'message/rfc822' && type !== 'text/plain' && type !== 'application/octet-stream') {
    throw new ApiError('unsupported_media_type', 'Send the message as message/rfc822, or JSON { raw_base64, envelope }.')
  }
  const raw = await readCappedBody(request, limit, () => tooLarge(limit))
  const url = new URL(request.url)
  const to = url.searchParams.getAll('to')
  return { raw, envelope: { from: url.searchParams.get('from'), to: to.length ? to : await headerRecipients(raw) } }
}

async function headerRecipients(raw: Uint8Array): Promise<string[]> {
  try {
    const m = await parseMessage(raw)
    return [...m.deliveredTo, ...m.to, ...m.cc]
  } catch (error) {
    if (error instanceof UnreadableMessage) throw new ApiError('bad_request', error.message.slice(0, 500))
    throw error
  }
}

function tooLarge(limit: number): ApiError {
  // The rest of an oversized body is never read, so the connection cannot be reused.
  return new ApiError('payload_too_large', `The message exceeds the ${limit}-byte limit.`, undefined, { Connection: 'close' })
}

function parseJson(bytes: Uint8Array): { raw_base64?: unknown; envelope?: { from?: unknown; to?: unknown } } {
  try {
    const body = JSON.parse(new TextDecoder().decode(bytes))
    if (body && typeof body === 'object' && !Array.isArray(body)) return body
  } catch {
    // answered below
  }
  throw new ApiError('bad_request', 'The body is not a JSON object { raw_base64, envelope }.')
}

function decodeBase64(value: unknown, limit: number): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/=\s]*$/.test(value)) {
    throw new ApiError('bad_request', '`raw_base64` must be the message in base64.')
  }
  let text: string
  try {
    text = atob(value.replace(/\s+/g, ''))
  } catch {
    throw new ApiError('bad_request', '`raw_base64` must be the message in base64.')
  }
  if (text.length > limit) throw tooLarge(limit)
  const bytes = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i)
  return bytes
}
