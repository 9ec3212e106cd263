import { definePage } from '../page.ts'
import { DataTable } from './data-table.tsx'
import { SecretDialog } from './secret-dialog.tsx'

/**
 * Webhook endpoints with their last 24 hours' health, the delivery log with retries, and a test event per
 * endpoint. A new endpoint's signing secret is shown once, in a dialog, as the API returns it once.
 */
export const webhooksPage = definePage({
  path: '/webhooks',
  title: 'Webhooks',
  nav: 'Webhooks',
  reads: 'webhooks:read',
  script: 'webhooks',
  body: () => (
    <>
      <div class="toolbar">
        <h1>Webhooks</h1>
        <div class="toolbar">
          <button type="button" id="refresh-webhooks" class="button secondary">
            Refresh
          </button>
          <button type="button" id="add-endpoint" class="button" data-requires="webhooks:write" hidden>
            Add endpoint
          </button>
        </div>
      </div>

      <section aria-labelledby="endpoints-title">
        <h2 id="endpoints-title">Endpoints</h2>
        <p class="hint">Health over the last 24 hours: the share of attempts answered with a 2xx, and the 95th percentile latency.</p>
        <ul id="endpoint-list" class="endpoint-list" />
      </section>

      <section aria-labelledby="deliveries-title">
        <div class="toolbar">
          <h2 id="deliveries-title">Delivery log</h2>
          <form id="delivery-filter" class="inline-form" aria-label="Filter deliveries">
            <div class="field inline">
              <label for="delivery-endpoint">Endpoint</label>
              <select id="delivery-endpoint" name="endpoint">
                <option value="">All endpoints</option>
              </select>
            </div>
            <div class="field inline">
              <label for="delivery-status">Status</label>
              <select id="delivery-status" name="status">
                <option value="">Any status</option>
                <option value="pending">Pending</option>
                <option value="delivered">Delivered</option>
                <option value="failed">Failed</option>
                <option value="dead">Dead</option>
              </select>
            </div>
            <button type="submit" class="button secondary">
              Show
            </button>
          </form>
        </div>
        <DataTable
          name="deliveries"
          caption="Deliveries, newest first"
          columns={['Event', 'Endpoint', 'Status', 'Attempts', 'Last answer', 'Created']}
          bodyId="delivery-rows"
          actionsNeed="webhooks:write"
        />
        <p>
          <button type="button" id="more-deliveries" class="button secondary" hidden>
            Show older deliveries
          </button>
        </p>
      </section>

      <dialog id="endpoint-dialog" aria-labelledby="endpoint-title">
        <form id="endpoint-form" method="dialog" novalidate>
          <div class="dialog-body">
            <h2 id="endpoint-title">Add a webhook endpoint</h2>
            <p id="endpoint-error" class="error" role="alert" hidden />
            <div class="field">
              <label for="endpoint-url">URL</label>
              <input type="url" id="endpoint-url" name="url" required maxlength={2048} placeholder="https://example.com/hooks/agentry" />
            </div>
            <div class="field">
              <label for="endpoint-events">Events</label>
              <input type="text" id="endpoint-events" name="events" value="*" required aria-describedby="endpoint-events-hint" />
              <p id="endpoint-events-hint" class="hint">
                Comma-separated event types or prefixes, such as <code>dataset.row.*, run.completed</code>; <code>*</code> for every event.
              </p>
            </div>
            <div class="field">
              <label for="endpoint-description">Description (optional)</label>
              <input type="text" id="endpoint-description" name="description" maxlength={500} />
            </div>
          </div>
          <div class="dialog-actions">
            <button type="button" class="button secondary" data-close>
              Cancel
            </button>
            <button type="submit" class="button">
              Add endpoint
            </button>
          </div>
        </form>
      </dialog>

      <SecretDialog
        id="endpoint-secret"
        title="The endpoint's signing secret"
        warning="Your receiver checks each delivery's signature with it."
        secretLabel="The signing secret"
        noun="secret"
      />
    </>
  ),
})
