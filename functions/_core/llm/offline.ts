// The built-in offline model: with no provider configured, chat still answers, deterministically and
// honestly, so that `npm start` demonstrates the whole exchange (streaming included) with no network.
import type { ChatProvider, ChatRequest, Completion, StreamEvent } from './types.ts'
import { estimateTokens } from './tokens.ts'

export const offlineModel = 'offline'

function reply(request: ChatRequest): string {
  const last = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? ''
  const quoted = last.length > 200 ? `${last.slice(0, 200)}…` : last
  return (
    "No language model is configured on this server, so this is Agentry's built-in offline model answering. " +
    'Set LLM_BASE_URL (with LLM_API_KEY and LLM_MODEL) to any OpenAI-compatible server — OpenAI, Ollama, vLLM, ' +
    `LM Studio, llama.cpp — to chat for real. You said: "${quoted}"`
  )
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
