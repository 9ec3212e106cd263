import { api } from '../shared/api.ts'
import { byId, errorBox, h, when } from '../shared/dom.ts'
import { startPage } from '../shared/page.ts'
import { consoleUrl } from '../shared/settings.ts'

export interface Agent {
  id: string
  name: string
  description: string | null
  instructions: string
  model: string | null
  temperature: number | null
  max_output_tokens: number | null
  status: 'active' | 'paused'
  updated_at: string
}

const rows = byId<HTMLTableSectionElement>('agent-rows')

startPage(async () => {
  try {
    const agents = await api<Agent[]>('GET', '/agents')
    rows.replaceChildren(
      ...(agents.length
        ? agents.map((agent) =>
            h(
              'tr',
              {},
              h('td', {}, h('a', { href: consoleUrl(`/agents/${agent.id}`) }, agent.name)),
              h('td', {}, agent.model ?? 'Default'),
              h('td', {}, h('span', { class: `badge ${agent.status}` }, agent.status)),
              h('td', {}, when(agent.updated_at)),
            ),
          )
        : [h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No agents yet.'))]),
    )
  } catch (error) {
    rows.replaceChildren(h('tr', {}, h('td', { colspan: 4 }, errorBox(error))))
  }
})
