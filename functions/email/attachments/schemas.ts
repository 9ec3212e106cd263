import { z } from '@hono/zod-openapi'
import { idParams } from '../../_core/schemas.ts'

/** The largest attachment, decoded: 10 MB. */
export const maxAttachmentBytes = 10 * 1024 * 1024

/** A MIME type (`type/subtype`, optionally with parameters): tokens only, so it can never break a header. */
const mediaType =
  /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}(?:\s*;\s*[a-z0-9!#$&^_.+-]+=(?:[a-z0-9!#$&^_.+-]+|"[^"\\\r\n]*"))*$/i

export const AttachmentParams = idParams('Attachment')

export const UploadAttachmentBody = z
  .object({
    filename: z
      .string()
      .trim()
      .min(1)
      .max(255)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what a filename may not hold
      .refine((name) => !/[\u0000-\u001f\u007f/\\]/.test(name), 'A filename holds no control characters and no slashes.')
      .openapi({ example: 'invoice.pdf' }),
    content_type: z.string().trim().regex(mediaType, 'Give a MIME type such as application/pdf.').optional(),
    /** The seed's name for content_type. */
    mime_type: z.string().trim().regex(mediaType, 'Give a MIME type such as application/pdf.').optional(),
    content: z.string().openapi({ description: 'The file, base64-encoded; at most 10 MB once decoded.' }),
  })
  .openapi('UploadAttachment')

export const Attachment = z
  .object({
    id: z.uuid(),
    attachment_id: z.uuid().openapi({ description: 'The same as `id`, under the name the send route takes.' }),
    message_id: z.uuid().nullable().openapi({ description: 'The message it came with or went out with; null while only uploaded.' }),
    filename: z.string(),
    content_type: z.string(),
    size: z.number().int().openapi({ description: 'Bytes, decoded.' }),
    sha256: z.string().openapi({ description: 'Hex SHA-256 of the content.' }),
    content_id: z.string().nullable().openapi({ description: 'The Content-ID of an inline part.' }),
    created_at: z.string(),
  })
  .openapi('Attachment')

export const AttachmentUrlQuery = z.object({
  expires_in: z.coerce
    .number()
    .int()
    .min(60)
    .max(604_800)
    .default(3600)
    .openapi({ description: 'Seconds the link works for: 60 to 604800 (a week), default 3600.' }),
})

export const AttachmentUrl = z
  .object({
    url: z.string().openapi({ description: 'Downloads the attachment with no credential until it expires.' }),
    expires_in: z.number().int(),
    expires_at: z.string(),
    filename: z.string(),
  })
  .openapi('AttachmentUrl')

export type AttachmentView = z.infer<typeof Attachment>
