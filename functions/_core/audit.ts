import type { MiddlewareHandler } from 'hono'
import { database } from './db.ts'
import { functionPath, type ApiEnv } from './app.ts'

const readOnly = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Records every write made through the API once it has been answered: who (key, user, agent), what
 * (method and path) and how it ended (status), so refused writes are on record too.
 */
export const recordWrite: MiddlewareHandler<ApiEnv> = async (c, next) => {
  await next()
  if (readOnly.has(c.req.method)) return
  const p = c.get('principal')
  // The write itself has committed by now: failing the response would invite a retry that repeats it.
  await database()`
    insert into agentry.audit_log (org_id, key_id, user_id, agent_id, method, path, status, request_id)
    values (${p.orgId}, ${p.keyId}, ${p.userId}, ${p.agentId}, ${c.req.method}, ${functionPath(c)},
            ${c.res.status}, ${c.get('requestId')})`.catch((error) => {
    console.error(`[${c.get('requestId')}] audit log write failed`, error)
  })
}
