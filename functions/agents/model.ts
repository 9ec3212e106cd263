import type { Tx } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { offeredModels } from '../_core/llm/models.ts'

/** Refuses (400 naming the choices) a model this server does not offer; null means the provider's default. */
export async function refuseUnofferedModel(tx: Tx, model: string | null | undefined): Promise<void> {
  if (model == null) return
  const offered = await offeredModels(tx)
  if (offered.includes(model)) return
  const choices = offered.length > 0 ? `one of ${offered.join(', ')}` : 'none is configured'
  const message = `${JSON.stringify(model)} is not offered on this server; choose ${choices}, or null for the default model.`
  throw new ApiError('validation_failed', `Invalid request: model: ${message}`, { fields: [{ field: 'model', message }] })
}
