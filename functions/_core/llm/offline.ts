// The built-in offline model: with no provider configured, chat still answers, deterministically and
// honestly, so that `npm start` demonstrates the whole exchange (streaming and knowledge included) with no
// network. Given knowledge passages, it answers with the best of them: retrieval can be seen working.
import type { ChatProvider, ChatRequest, Completion, StreamEvent } from './types.ts'
import { estimateTokens } from './tokens.ts'

export const offlineModel = 'offline'

/** The passages quoted, and how much of each. */
const quotedPassages = 2
const quotedChars = 400

const clipped = (text: string, max: number) => {
  const chars = Array.from(text.trim().replace(/\s+/g, ' '))
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : chars.join('')
}

const setUp =
  'Set LLM_BASE_URL (with LLM_API_KEY and LLM_MODEL) to any OpenAI-compatible server — OpenAI, Ollama, vLLM, ' +
  'LM Studio, llama.cpp — to chat for real.'

function reply(request: ChatRequest): string {
  const passages = request.passages ?? []
  if (passages.length > 0) {
    const quoted = passages
      .slice(0, quotedPassages)
      .map((p, i) => `[${i + 1}] From ${p.title?.trim() || 'an untitled item'}: ${clipped(p.text, quotedChars)}`)
      .join('\n\n')
    return (
      "No language model is configured on this server, so this is Agentry's built-in offline model answering with " +
      `what the agent's knowledge holds on your message:\n\n${quoted}\n\n${setUp}`
    )
  }
  const last = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? ''
  const quoted = last.length > 200 ? `${last.slice(0, 200)}…` : last
  return `No language model is configured on this server, so this is Agentry's built-in offline model answering. ${setUp} You said: "${quoted}"`
}

function usageOf(request: ChatRequest, text: string) {
  return {
    promptTokens: estimateTokens(request.messages.map((m) => m.content).join('\n')),
    completionTokens: estimateTokens(text),
    estimated: true,
  }
}

export function offlineProvider(): ChatProvider {
  return {
    name: 'offline',
    defaultModel: offlineModel,
    async complete(request): Promise<Completion> {
      const text = reply(request)
      return { text, model: offlineModel, usage: usageOf(request, text) }
    },
    async *stream(request, signal): AsyncIterable<StreamEvent> {
      const text = reply(request)
      for (const word of text.match(/\S+\s*/g) ?? []) {
        if (signal?.aborted) return
        yield { type: 'delta', text: word }
      }
      yield { type: 'done', model: offlineModel, usage: usageOf(request, text) }
    },
  }
}
