// What chat (and later runs and knowledge) says to a model provider and hears back, whichever provider it is.

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface ChatRequest {
  model: string
  messages: ChatMessage[]
  temperature?: number | null
  maxTokens?: number | null
  /**
   * The knowledge passages the messages already carry as context, best first, for a model that cannot read
   * (the offline one); a real model reads them in the messages.
   */
  passages?: { title: string | null; text: string }[]
  /**
   * Asks for a JSON answer: one matching `schema` (structured output), or any JSON object. Providers that
   * cannot constrain their answer ignore it; the caller parses and checks what comes back either way.
   */
  responseFormat?: { type: 'json_schema'; name: string; schema: Record<string, unknown> } | { type: 'json_object' }
}

export interface Usage {
  promptTokens: number
  completionTokens: number
  /** True when the provider did not report usage and the counts were estimated from the text. */
  estimated: boolean
}

export interface Completion {
  text: string
  model: string
  usage: Usage
}

export type StreamEvent = { type: 'delta'; text: string } | { type: 'done'; model: string; usage: Usage }

export interface ChatProvider {
  /** `openai-compatible` or `offline`, as the usage ledger records it. */
  readonly name: string
  /** The model used when an agent names none. */
  readonly defaultModel: string
  complete(request: ChatRequest, signal?: AbortSignal): Promise<Completion>
  /** Text deltas, then one `done` with the usage. Throws `provider_error` when the provider fails. */
  stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<StreamEvent>
}
