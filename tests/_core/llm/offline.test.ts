import { describe, expect, it } from 'vitest'
import { offlineProvider } from '../../../functions/_core/llm/offline.ts'
import type { StreamEvent } from '../../../functions/_core/llm/types.ts'

const offline = offlineProvider()
const setUp =
  'Set LLM_BASE_URL (with LLM_API_KEY and LLM_MODEL) to any OpenAI-compatible server — OpenAI, Ollama, vLLM, ' +
  'LM Studio, llama.cpp — to chat for real.'

describe('the offline model', () => {
  it("quotes the user's last message, cut at 200 characters", async () => {
    const long = 'a'.repeat(250)
    const { text } = await offline.complete({
      model: 'offline',
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'reply' },
        { role: 'user', content: long },
      ],
    })
    expect(text).toBe(
      `No language model is configured on this server, so this is Agentry's built-in offline model answering. ${setUp} You said: "${'a'.repeat(200)}…"`,
    )
  })

  it('quotes nothing when no user has spoken', async () => {
    const { text } = await offline.complete({ model: 'offline', messages: [{ role: 'system', content: 'Be brief.' }] })
    expect(text.endsWith('You said: ""')).toBe(true)
  })

  it('answers with the two best passages, titled or not, each cut at 400 characters with its spaces folded', async () => {
    const { text } = await offline.complete({
      model: 'offline',
      messages: [{ role: 'user', content: 'Where is the office?' }],
      passages: [
        { title: ' Handbook ', text: '  The office is\n\nin   Leeds. ' },
        { title: '  ', text: 'b'.repeat(401) },
        { title: 'Third', text: 'never quoted' },
      ],
    })
    expect(text).toBe(
      "No language model is configured on this server, so this is Agentry's built-in offline model answering with " +
        "what the agent's knowledge holds on your message:\n\n" +
        `[1] From Handbook: The office is in Leeds.\n\n[2] From an untitled item: ${'b'.repeat(400)}…\n\n${setUp}`,
    )
  })

  it('streams its answer word by word, then says it is done, with estimated usage', async () => {
    const events: StreamEvent[] = []
    for await (const event of offline.stream({ model: 'offline', messages: [{ role: 'user', content: 'hi' }] })) events.push(event)
    const words = events.filter((e) => e.type === 'delta').map((e) => (e as { text: string }).text)
    expect(words.join('')).toBe((await offline.complete({ model: 'offline', messages: [{ role: 'user', content: 'hi' }] })).text)
    expect(events.at(-1)).toMatchObject({ type: 'done', model: 'offline', usage: { estimated: true } })
  })

  it('stops streaming, without saying it is done, once its signal is aborted', async () => {
    const controller = new AbortController()
    const events: StreamEvent[] = []
    for await (const event of offline.stream({ model: 'offline', messages: [{ role: 'user', content: 'hi' }] }, controller.signal)) {
      events.push(event)
      if (events.length === 3) controller.abort()
    }
    expect(events.map((e) => e.type)).toEqual(['delta', 'delta', 'delta'])
  })
})
