import { api, apiFetch } from '../shared/api.ts'
import { announce, byId, errorBox, h, usd } from '../shared/dom.ts'
import { startPage } from '../shared/page.ts'
import { readEvents } from '../shared/sse.ts'
import type { Agent } from './agents.ts'

interface ChatUsage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  cost_usd: number | null
  estimated: boolean
}

interface ChatReply {
  conversation_id: string
  reply: string
  status: 'complete' | 'incomplete'
  model: string
  usage: ChatUsage
  latency_ms: number
}

const agentId = byId('agent').dataset.agentId!
const form = byId<HTMLFormElement>('agent-form')
const log = byId('chat-log')
const chatForm = byId<HTMLFormElement>('chat-form')
const messageBox = byId<HTMLTextAreaElement>('chat-message')
const sendButton = byId<HTMLButtonElement>('chat-send')

startPage(async ({ can }) => {
  let agent: Agent
  try {
    agent = await api<Agent>('GET', `/agents/${encodeURIComponent(agentId)}`)
  } catch (error) {
    form.replaceChildren(errorBox(error))
    return
  }
  show(agent)
  byId<HTMLFieldSetElement>('agent-fields').disabled = !can('agents:write')

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const values = new FormData(form)
    const text = (name: string) => String(values.get(name) ?? '').trim()
    const number = (name: string) => (text(name) === '' ? null : Number(text(name)))
    const errorLine = byId('agent-error')
    errorLine.hidden = true
    try {
      agent = await api<Agent>('PATCH', `/agents/${agent.id}`, {
        name: text('name'),
        description: text('description') || null,
        instructions: String(values.get('instructions') ?? ''),
        model: text('model') || null,
        temperature: number('temperature'),
        max_output_tokens: number('max_output_tokens'),
        status: text('status'),
      })
      show(agent)
      announce('Agent saved.')
    } catch (error) {
      errorLine.textContent = error instanceof Error ? error.message : String(error)
      errorLine.hidden = false
    }
  })

  let conversationId: string | undefined
  chatForm.addEventListener('submit', (event) => {
    event.preventDefault()
    void send()
  })
  messageBox.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      chatForm.requestSubmit()
    }
  })

  async function send() {
    const message = messageBox.value.trim()
    if (!message || sendButton.disabled) return
    messageBox.value = ''
    sendButton.disabled = true
    log.append(h('div', { class: 'chat-message user' }, message))
    const text = h('div', { class: 'reply-text' })
    const meta = h('div', { class: 'meta' }, 'Writing…')
    const bubble = h('div', { class: 'chat-message assistant', 'aria-busy': 'true' }, text, meta)
    log.append(bubble)
    try {
      const response = await apiFetch(
        'POST',
        `/chat/${agentId}`,
        { message, stream: true, ...(conversationId ? { conversation_id: conversationId } : {}) },
        { accept: 'text/event-stream' },
      )
      for await (const { event, data } of readEvents(response.body!)) {
        if (event === 'message.start') conversationId = (data as { conversation_id: string }).conversation_id
        else if (event === 'message.delta') {
          text.append((data as { text: string }).text)
          log.scrollTop = log.scrollHeight
        } else if (event === 'message.end') {
          const reply = data as ChatReply
          meta.textContent = usageLine(reply)
          announce(`Reply: ${reply.reply}`)
        } else if (event === 'error') {
          bubble.append(errorBox((data as { error: { message: string } }).error.message))
          meta.textContent = ''
        }
      }
    } catch (error) {
      bubble.append(errorBox(error))
      meta.textContent = ''
    } finally {
      bubble.removeAttribute('aria-busy')
      sendButton.disabled = false
      messageBox.focus()
    }
  }
})

/** The message's usage and cost: "gpt-4o-mini · 12 + 7 = 19 tokens · $0.000006 · 840 ms". */
function usageLine(reply: ChatReply): string {
  const u = reply.usage
  const tokens = `${u.prompt_tokens} + ${u.completion_tokens} = ${u.total_tokens} tokens${u.estimated ? ' (estimated)' : ''}`
  return [reply.model, tokens, usd(u.cost_usd), `${reply.latency_ms} ms`, reply.status === 'incomplete' ? 'incomplete' : '']
    .filter(Boolean)
    .join(' · ')
}

function show(agent: Agent) {
  byId('agent-name').textContent = agent.name
  document.title = `${agent.name} · Agentry console`
  const set = (id: string, value: string | number | null) => {
    byId<HTMLInputElement>(id).value = value === null ? '' : String(value)
  }
  set('agent-name-input', agent.name)
  set('agent-description', agent.description)
  set('agent-instructions', agent.instructions)
  set('agent-model', agent.model)
  set('agent-temperature', agent.temperature)
  set('agent-max-tokens', agent.max_output_tokens)
  set('agent-status', agent.status)
}
