import { z } from '@hono/zod-openapi'

/** The API's sections; a scope is `<section>:read`, `<section>:write`, `*:read`, `*:write` or `*`. */
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
  'webhooks',
  'keys',
  'org',
] as const

export type Section = (typeof sections)[number]
export type Scope = `${Section | '*'}:${'read' | 'write'}` | '*'

const scopePattern = new RegExp(`^(\\*|(\\*|${sections.map((s) => s.replace('-', '\\-')).join('|')}):(read|write))$`)

export const ScopeSchema = z
  .string()
  .regex(scopePattern, {
    message: `Unknown scope. Use "<section>:read", "<section>:write", "*:read", "*:write" or "*"; sections: ${sections.join(', ')}.`,
  })
  .openapi({ example: 'datasets:read' }) as unknown as z.ZodType<Scope>
