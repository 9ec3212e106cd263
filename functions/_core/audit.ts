import type { MiddlewareHandler } from 'hono'
import { database } from './db.ts'
import type { ApiEnv } from './app.ts'

const readOnly = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Records every write made through the API once it has been answered: who (key, user, agent), what
 * (method and path) and how it ended (status), so refused writes are on record too.
 */
export const recordWrite: MiddlewareHandler<ApiEnv> = async (c, next) => {
  await next()
  if (readOnly.has(c.req.method)) return
  const p = c.get('principal')
  await database()`
    insert into agentry.audit_log (org_id, key_id, user_id, agent_id, method, path, status, request_id)
    values (${p.orgId}, ${p.keyId}, ${p.userId}, ${p.agentId}, ${c.req.method}, ${new URL(c.req.url).pathname.replace(/^\/functions\/v1/, '')},
            ${c.res.status}, ${c.get('requestId')})`
}
