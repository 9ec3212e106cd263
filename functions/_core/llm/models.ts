// Which models an agent may name, as the operator decides: AGENT_MODELS (comma-separated) when it is set;
// otherwise every chat model with a price in agentry.model_prices, the built-in offline model, and LLM_MODEL (the
// provider's default), so that nothing an agent runs on is unpriced unless the operator chose it.
import type { Tx } from '../db.ts'
import { readEnv } from '../env.ts'
import { offlineModel } from './offline.ts'

export async function offeredModels(tx: Tx): Promise<string[]> {
  const listed = readEnv('AGENT_MODELS')
  if (listed !== undefined)
    return [
      ...new Set(
        listed
          .split(',')
          .map((m) => m.trim())
          .filter(Boolean),
      ),
    ]
  const priced = await tx<{ model: string }[]>`select model from agentry.model_prices where kind = 'chat' order by model`
  const fallback = readEnv('LLM_MODEL')
  return [...new Set([...priced.map((r) => r.model), offlineModel, ...(fallback ? [fallback] : [])])]
}
