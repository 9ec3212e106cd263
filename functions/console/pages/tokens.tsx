import { sections } from '../../_core/scopes.ts'
import { definePage } from '../page.ts'
import { DataTable } from './data-table.tsx'
import { SecretDialog } from './secret-dialog.tsx'

/** The organisation's API tokens: the table, and the dialogs that generate, show once, rotate them. */
export const tokensPage = definePage({
  path: '/tokens',
  title: 'API tokens',
  nav: 'API tokens',
  reads: 'keys:read',
  script: 'tokens',
  body: ({ apiBase }) => (
    <>
      <div class="toolbar">
        <h1>API tokens</h1>
        <div class="toolbar">
          <a href={`${apiBase}/docs`}>API reference</a>
          <button type="button" id="generate" class="button" data-requires="keys:write" hidden>
            Generate API Token
          </button>
        </div>
      </div>
      <p class="muted">
        Tokens authenticate calls to the API as <code>Authorization: Bearer &lt;token&gt;</code>. Each carries the scopes it was given.
      </p>
      <DataTable
        name="tokens"
        caption="API tokens"
        columns={['Name', 'Prefix', 'Status', 'Created', 'Last used', 'Calls']}
        bodyId="token-rows"
        actionsNeed="keys:write"
      />

      <dialog id="generate-dialog" aria-labelledby="generate-title">
        <form id="generate-form" method="dialog" novalidate>
          <div class="dialog-body">
            <h2 id="generate-title">Generate API Token</h2>
            <p id="generate-error" class="error" role="alert" hidden />
            <div class="field">
              <label for="token-name">Name</label>
              <input type="text" id="token-name" name="name" required maxlength={200} autocomplete="off" />
            </div>
            <fieldset>
              <legend>Scopes</legend>
              <p class="hint">Grant only what the token's user needs. Write does not include read.</p>
              <div class="scope-grid">
                <fieldset>
                  <legend>Every section</legend>
                  <ScopeBox scope="*" label="Full access (*)" />
                  <ScopeBox scope="*:read" label="Read all" />
                  <ScopeBox scope="*:write" label="Write all" />
                  <ScopeBox scope="data:delete" label="Delete organisation data" />
                </fieldset>
                {sections.map((section) => (
                  <fieldset>
                    <legend>{section}</legend>
                    <ScopeBox scope={`${section}:read`} label="Read" />
                    <ScopeBox scope={`${section}:write`} label="Write" />
                  </fieldset>
                ))}
              </div>
            </fieldset>
            <div class="field">
              <label for="token-expiry">Expires</label>
              <select id="token-expiry" name="expiry">
                <option value="">Never</option>
                <option value="7">In 7 days</option>
                <option value="30" selected>
                  In 30 days
                </option>
                <option value="90">In 90 days</option>
                <option value="365">In a year</option>
              </select>
            </div>
          </div>
          <div class="dialog-actions">
            <button type="button" class="button secondary" data-close>
              Cancel
            </button>
            <button type="submit" class="button">
              Generate
            </button>
          </div>
        </form>
      </dialog>

      <SecretDialog
        id="secret"
        title="Your new API token"
        warning="Store it as a secret; anyone holding it can call the API with its scopes."
        secretLabel="The new token"
        noun="token"
      />

      <dialog id="rotate-dialog" aria-labelledby="rotate-title">
        <form id="rotate-form" method="dialog">
          <div class="dialog-body">
            <h2 id="rotate-title">Rotate token</h2>
            <p id="rotate-message" />
            <p id="rotate-error" class="error" role="alert" hidden />
            <div class="field">
              <label for="grace">Keep the old token working for</label>
              <select id="grace" name="grace">
                <option value="0">No time: stop it now</option>
                <option value="3600" selected>
                  1 hour
                </option>
                <option value="86400">24 hours</option>
                <option value="604800">7 days</option>
              </select>
            </div>
          </div>
          <div class="dialog-actions">
            <button type="button" class="button secondary" data-close>
              Cancel
            </button>
            <button type="submit" class="button">
              Rotate
            </button>
          </div>
        </form>
      </dialog>
    </>
  ),
})

function ScopeBox({ scope, label }: { scope: string; label: string }) {
  const id = `scope-${scope.replace(/[^a-z-]/g, (c) => (c === '*' ? 'all' : '-'))}`
  return (
    <label class="check" for={id}>
      <input type="checkbox" id={id} name="scopes" value={scope} />
      {label}
    </label>
  )
}
