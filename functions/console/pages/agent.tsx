import { definePage } from '../page.ts'

/** One agent: its settings, editable with agents:write, and a chat with it that streams the reply. */
export const agentPage = definePage({
  path: '/agents/:id',
  title: 'Agent',
  script: 'agent',
  body: ({ consoleBase, params }) => (
    <div data-agent-id={params.id} id="agent">
      <p>
        <a href={`${consoleBase}/agents`}>← Agents</a>
      </p>
      <h1 id="agent-name">Agent</h1>
      <div class="split">
        <section class="panel" aria-labelledby="settings-heading">
          <h2 id="settings-heading">Settings</h2>
          <form id="agent-form">
            <fieldset id="agent-fields" class="plain">
              <legend class="visually-hidden">Agent settings</legend>
              <div class="field">
                <label for="agent-name-input">Name</label>
                <input type="text" id="agent-name-input" name="name" required maxlength={200} />
              </div>
              <div class="field">
                <label for="agent-description">Description</label>
                <input type="text" id="agent-description" name="description" maxlength={2000} />
              </div>
              <div class="field">
                <label for="agent-instructions">Instructions</label>
                <textarea id="agent-instructions" name="instructions" rows={6} />
              </div>
              <div class="field">
                <label for="agent-model">
                  Model <span class="hint">(empty: the server's default)</span>
                </label>
                <input type="text" id="agent-model" name="model" maxlength={200} />
              </div>
              <div class="field">
                <label for="agent-temperature">
                  Temperature <span class="hint">(0 to 2; empty: the model's default)</span>
                </label>
                <input type="number" id="agent-temperature" name="temperature" min={0} max={2} step={0.1} />
              </div>
              <div class="field">
                <label for="agent-max-tokens">Output limit (tokens)</label>
                <input type="number" id="agent-max-tokens" name="max_output_tokens" min={1} step={1} />
              </div>
              <div class="field">
                <label for="agent-status">Status</label>
                <select id="agent-status" name="status">
                  <option value="active">Active</option>
                  <option value="paused">Paused (refuses chat)</option>
                </select>
              </div>
            </fieldset>
            <p id="agent-error" class="error" role="alert" hidden />
            <button type="submit" class="button" data-requires="agents:write" hidden>
              Save changes
            </button>
          </form>
        </section>
        <section class="panel" aria-labelledby="chat-heading" data-requires="chat:write" hidden>
          <h2 id="chat-heading">Chat</h2>
          <div id="chat-log" class="chat-log" role="log" aria-live="polite" aria-label="Conversation" tabindex={0} />
          <form id="chat-form" class="chat-form">
            <div class="field">
              <label for="chat-message">Message</label>
              <textarea id="chat-message" name="message" rows={2} required />
            </div>
            <button type="submit" class="button" id="chat-send">
              Send
            </button>
          </form>
          <p class="hint">Enter sends; Shift+Enter starts a new line. Replies stream as they are written.</p>
        </section>
      </div>
    </div>
  ),
})
