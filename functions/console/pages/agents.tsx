import { definePage } from '../page.ts'

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
      <section class="table-wrap" aria-labelledby="agents-caption" tabindex={0}>
        <table>
          <caption id="agents-caption" class="visually-hidden">
            Agents
          </caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Model</th>
              <th scope="col">Status</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody id="agent-rows" />
        </table>
      </section>
    </>
  ),
})
