// `Idempotency-Key` on a reply or forward, as on POST /messages/send: a retry with the same key and body
// answers what the first request got instead of sending again.
import type { TenantClaims, Tx } from '../../_core/db.ts'
import { claimIdempotencyKey, type StoredAnswer } from '../../_core/idempotency.ts'

export async function sendOnce<T extends StoredAnswer>(
  claims: TenantClaims,
  key: string | undefined,
  request: { route: string; body: unknown; mayRequest: (tx: Tx) => Promise<void> },
  send: () => Promise<T>,
): Promise<T | StoredAnswer> {
  if (key === undefined) return send()
  const idempotency = await claimIdempotencyKey(claims, key, request.route, request.body, request.mayRequest)
  if (idempotency.kind === 'replay') return idempotency.answer
  try {
    const answer = await send()
    await idempotency.complete({ status: answer.status, body: answer.body })
    return answer
  } catch (error) {
    await idempotency.abandon()
    throw error
  }
}
