import { z } from '@hono/zod-openapi'

export const Organisation = z
  .object({
    id: z.uuid(),
    name: z.string(),
    plan: z.string(),
    rate_limit_per_minute: z.number().int(),
    environments: z.array(z.object({ id: z.uuid(), name: z.string() })),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Organisation')

export const UpdateOrgBody = z.strictObject({ name: z.string().trim().min(1).max(200) }).openapi('UpdateOrganisation')
