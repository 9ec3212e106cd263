import { z } from '@hono/zod-openapi'
import { cursorParam, limitParam } from '../../_core/schemas.ts'

const position = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z_[0-9a-f-]{36}$/

const List = z.enum(['allow', 'block'])
const uuidParam = (name: string, what: string) => z.uuid({ message: `${what} id must be a UUID.` }).openapi({ param: { name, in: 'path' } })

export const InboxListParams = z.object({ id: uuidParam('id', 'Inbox') })
export const InboxEntryParams = z.object({ id: uuidParam('id', 'Inbox'), entry_id: uuidParam('entry_id', 'Entry') })
export const OrgEntryParams = z.object({ entry_id: uuidParam('entry_id', 'Entry') })

export const ListEntry = z
  .object({
    id: z.uuid(),
    inbox_id: z.uuid().nullable().openapi({ description: "Null for an entry of the organisation's list, applied to every inbox." }),
    list: z.enum(['allow', 'block']),
    entry: z.string().openapi({ example: 'example.com' }),
    kind: z.enum(['address', 'domain']),
    created_at: z.string(),
  })
  .openapi('SenderListEntry')

export const AddEntryBody = z
  .strictObject({
    list: List.openapi({ description: '`allow` lets the sender through; `block` refuses or flags its mail.' }),
    entry: z
      .string()
      .max(320)
      .openapi({ description: 'An address (ann@example.com) or a domain (example.com, covering its subdomains).', example: 'example.com' }),
  })
  .openapi('AddSenderListEntry')

export const ListQuery = z.object({
  list: List.optional().openapi({ description: 'Only the allow list or only the block list.' }),
  limit: limitParam(500, 100),
  cursor: cursorParam(position),
})

export const Filtering = z
  .object({
    inbox_id: z.uuid(),
    blocked_senders: z
      .enum(['refuse', 'flag'])
      .openapi({ description: '`refuse`: a 5xx at SMTP time, nothing stored. `flag`: stored with the `blocked` label.' }),
    allow_list_only: z.boolean().openapi({ description: 'Accept only senders on an allow list (the inbox’s or the organisation’s).' }),
    spam_threshold: z.number().openapi({ description: 'A message whose spam score reaches this gets the `spam` label.' }),
  })
  .openapi('InboxFiltering')

export const UpdateFilteringBody = z
  .strictObject({
    blocked_senders: z.enum(['refuse', 'flag']).optional(),
    allow_list_only: z.boolean().optional(),
    spam_threshold: z.number().min(0).max(100).multipleOf(0.1).optional(),
  })
  .openapi('UpdateInboxFiltering')
