import { z } from '@hono/zod-openapi'

/**
 * The API's sections; a scope is `<section>:read`, `<section>:write`, `*:read`, `*:write`, `*`, or
 * `data:delete`.
 */
export const sections = [
  'agents',
  'chat',
  'conversations',
  'knowledge',
  'datasets',
  'runs',
  'judges',
  'budgets',
  'audit-logs',
  'deployments',
  'domains',
  'inboxes',
  'threads',
  'messages',
  'attachments',
  'drafts',
  'webhooks',
  'keys',
  'org',
] as const

export type Section = (typeof sections)[number]
/**
 * Deleting an organisation's data in bulk (functions/data/) is stronger than any write: `*:write` does not
 * cover it, only `*` or the scope itself (agentry.scope_allows says the same).
 */
export const dataDeleteScope = 'data:delete'

/** Sending a draft held for approval: like data:delete, only `*` or the scope itself covers it. */
export const draftsApproveScope = 'drafts:approve'

export type Scope = `${Section | '*'}:${'read' | 'write'}` | '*' | typeof dataDeleteScope | typeof draftsApproveScope

const scopePattern = new RegExp(
  `^(\\*|data:delete|drafts:approve|(\\*|${sections.map((s) => s.replace('-', '\\-')).join('|')}):(read|write))$`,
)

export const ScopeSchema = z
  .string()
  .regex(scopePattern, {
    message: `Unknown scope. Use "<section>:read", "<section>:write", "*:read", "*:write", "*", "data:delete" or "drafts:approve"; sections: ${sections.join(', ')}.`,
  })
  .openapi({ example: 'datasets:read' }) as unknown as z.ZodType<Scope>
