import type { MiddlewareHandler } from 'hono'
import { database, type AuditedWrite } from './db.ts'
import { functionPath, type ApiEnv } from './server.ts'

/**
 * Records every write made through the API (defineRoute attaches this to every route but GET ones): who (key,
 * user, agent), what (method and path) and how it ended (status). A write that changes something is recorded
 * by its request's first tenant transaction, in that transaction (withTenant), with `successStatus`, the
 * status the route answers when it succeeds; if the answer turns out otherwise a correction naming the entry is
 * appended after it, as the log is append-only (listings show the corrected status). A write refused before
 * any tenant transaction committed (a bad request, a missing scope, a conflict) is recorded after the answer.
 */
export function recordWrite(successStatus: number): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const write: AuditedWrite = { method: c.req.method, path: functionPath(c), status: successStatus, requestId: c.get('requestId') }
    c.set('write', write)
    await next()
    const status = c.res.status
    if (write.entryId !== undefined && status === write.status) return
    // Whatever committed has committed by now: failing the response would invite a retry that repeats it.
    const p = c.get('principal')
    const recorded =
      write.entryId === undefined
        ? database()`
            insert into agentry.audit_log (org_id, key_id, user_id, agent_id, method, path, status, request_id)
            values (${p.orgId}, ${p.keyId}, ${p.userId}, ${p.agentId}, ${write.method}, ${write.path}, ${status}, ${write.requestId})`
        : database()`
            insert into agentry.audit_log (org_id, key_id, user_id, agent_id, method, path, status, request_id, corrects)
            values (${p.orgId}, ${p.keyId}, ${p.userId}, ${p.agentId}, ${write.method}, ${write.path}, ${status}, ${write.requestId}, ${write.entryId})`
    await recorded.catch((error) => console.error(`[${write.requestId}] audit log write failed`, error))
  }
}
