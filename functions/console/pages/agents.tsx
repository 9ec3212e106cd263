import { definePage } from '../page.ts'
import { DataTable } from './data-table.tsx'

/** The organisation's agents, each linking to its page (edit and chat). */
export const agentsPage = definePage({
  path: '/agents',
  title: 'Agents',
  nav: 'Agents',
  reads: 'agents:read',
  script: 'agents',
  body: () => (
    <>
      <div class="toolbar">
        <h1>Agents</h1>
      </div>
      <DataTable name="agents" caption="Agents" columns={['Name', 'Model', 'Status', 'Updated']} bodyId="agent-rows" />
    </>
  ),
})
