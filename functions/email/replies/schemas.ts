import { z } from '@hono/zod-openapi'
import { idParams } from '../../_core/schemas.ts'
import { SendBody } from '../outbound/schemas.ts'

const body = z.string().max(5_000_000)

export const ReplyBody = z
  .object({
    text: body.optional(),
    html: body.optional(),
    reply_all: z.boolean().default(false).openapi({ description: "Also to the original's To and Cc, never to the inbox's own address." }),
    send_at: SendBody.shape.send_at,
  })
  .refine((b) => b.text !== undefined || b.html !== undefined, { message: 'text or html is required', path: ['text'] })
  .openapi('ReplyToMessage')

export const ForwardBody = z
  .object({
    to: SendBody.shape.to,
    cc: SendBody.shape.cc,
    text: body.optional().openapi({ description: 'A note above the forwarded message.' }),
    html: body.optional(),
    inline: z
      .boolean()
      .default(false)
      .openapi({
        description:
          'Quote the original in the body under a header block (its attachments carried along) instead of attaching it ' +
          'whole as a message/rfc822 part.',
      }),
    send_at: SendBody.shape.send_at,
  })
  .openapi('ForwardMessage')

export const MessageParams = idParams('Message')
