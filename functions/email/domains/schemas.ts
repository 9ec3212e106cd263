import { z } from '@hono/zod-openapi'
import { cursorParam, idParams, limitParam } from '../../_core/schemas.ts'
import { recordKinds } from './records.ts'

export const domainStatuses = ['pending', 'verified', 'failed'] as const

const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
const fqdn = new RegExp(`^(?:${label}\\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

export const DomainName = z
  .string()
  .trim()
  .toLowerCase()
  .transform((name) => name.replace(/\.$/, ''))
  .pipe(
    z
      .string()
      .max(253, { message: 'A domain name has at most 253 characters.' })
      .regex(fqdn, { message: 'Use a fully qualified domain name such as mail.example.com (letters, digits and hyphens).' }),
  )
  .openapi({ type: 'string', example: 'mycompany.com' })

export const DnsRecord = z
  .object({
    kind: z.enum(recordKinds).openapi({ description: 'What the record is for.' }),
    type: z.enum(['MX', 'TXT']),
    name: z.string().openapi({ description: 'The full name to create the record at.' }),
    value: z.string().openapi({ description: 'The exact value to paste.' }),
    priority: z.number().int().nullable().openapi({ description: 'MX priority; null for TXT records.' }),
    status: z.enum(['pending', 'verified', 'failed']).openapi({ description: 'pending until the first verification.' }),
    found: z.array(z.string()).openapi({ description: 'What the last verification found at that name.' }),
    checked_at: z.string().nullable(),
    error: z.string().optional().openapi({ description: 'Why the lookup itself failed, when it did.' }),
  })
  .openapi('DnsRecord')

export const Domain = z
  .object({
    id: z.uuid(),
    name: z.string(),
    status: z.enum(domainStatuses).openapi({
      description: 'verified once MX, SPF and DKIM all pass a verification; failed when the last one did not.',
    }),
    dkim_selector: z.string(),
    records: z.array(DnsRecord).openapi({ description: 'MX, SPF, DKIM and DMARC: what to configure, and how each last checked.' }),
    verified_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('EmailDomain')

export const CreateDomainBody = z.strictObject({ name: DomainName }).openapi('CreateEmailDomain')

export const DomainParams = idParams('Domain')

// Newest first; the cursor is the last row's creation time and id.
const cursorShape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9a-f-]{36}$/

export const DomainQuery = z.object({ limit: limitParam(100, 20), cursor: cursorParam(cursorShape) })
