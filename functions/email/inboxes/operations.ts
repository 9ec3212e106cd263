// What the inbox routes do, shared by the shared-domain paths (/inboxes/{id}) and the per-domain paths
// (/domains/{id}/inboxes/{inboxId}): they differ only in how the inbox is named.
import { owningAgent } from '../../_core/agent-ownership.ts'
import type { Principal } from '../../_core/auth.ts'
import { type Tenant, withTenant } from '../../_core/db.ts'
import { readEnv } from '../../_core/env.ts'
import { ApiError } from '../../_core/errors.ts'
import { refuseUnreachableUrl } from '../../_core/webhook-endpoints.ts'
import { sharedDomain } from '../shared-domain.ts'
import { deleteInbox, type InboxChanges, type InboxRow, insertInbox, requireDomainOf, requireInbox, updateInbox } from './queries.ts'
import { attachWebhook, detachWebhook, type WebhookSetting } from './webhook.ts'

export type InboxAnswer = InboxRow & { webhook_secret?: string }

// The shared domain's role addresses (RFC 2142, and where DMARC reports go) are the operator's, not a tenant's.
const reservedOnSharedDomain = new Set(['postmaster', 'abuse', 'hostmaster', 'webmaster', 'mailer-daemon', 'dmarc'])

/** Whether sends wait for approval is the organisation's call: an agent key may not lift (or set) its own. */
function refuseApprovalChangeByAgent(p: Principal, requiresApproval: boolean | undefined) {
  if (requiresApproval !== undefined && p.agentId) {
    throw new ApiError('insufficient_scope', 'Only an organisation key or a user may set requires_approval, never an agent key.')
  }
}

function refuseReserved(localPart: string | undefined, domain: string) {
  if (localPart && reservedOnSharedDomain.has(localPart)) {
    throw new ApiError('conflict', `The address ${localPart}@${domain} is reserved.`)
  }
}

/** How a route names an inbox: by id, and under a domain's path also by that domain. */
export interface InboxAddress {
  id: string
  domainId?: string
}

export async function createInbox(
  tenant: Tenant,
  p: Principal,
  domainId: string | null,
  body: { local_part: string; name?: string | null; agent_id?: string; webhook?: WebhookSetting; requires_approval?: boolean },
): Promise<InboxAnswer> {
  const agentId = owningAgent(p, body.agent_id)
  refuseApprovalChangeByAgent(p, body.requires_approval)
  if (body.webhook) refuseUnreachableUrl(body.webhook.endpoint, 'webhook.endpoint')
  return withTenant(tenant, async (tx) => {
    // A custom domain's inboxes may be made before it is verified; sending from them waits for verification.
    const domain = domainId ? (await requireDomainOf(tx, domainId)).name : sharedDomain(readEnv)
    if (!domainId) refuseReserved(body.local_part, domain)
    const inbox = await insertInbox(tx, {
      orgId: p.orgId,
      domainId,
      domain,
      localPart: body.local_part,
      name: body.name ?? null,
      agentId,
      requiresApproval: body.requires_approval ?? false,
    })
    if (!body.webhook) return inbox
    const { endpointId, secret } = await attachWebhook(tx, inbox, body.webhook, { orgId: p.orgId, agentId: p.agentId })
    return { ...(await updateInbox(tx, inbox.id, { webhook_endpoint_id: endpointId }, domain)), webhook_secret: secret }
  })
}

export function getInbox(tenant: Tenant, at: InboxAddress): Promise<InboxRow> {
  return withTenant(tenant, async (tx) => {
    if (at.domainId) await requireDomainOf(tx, at.domainId)
    return requireInbox(tx, at.id, { domainId: at.domainId })
  })
}

export async function changeInbox(
  tenant: Tenant,
  p: Principal,
  at: InboxAddress,
  body: Omit<InboxChanges, 'webhook_endpoint_id' | 'extraction_schema'> & { webhook?: WebhookSetting | null },
): Promise<InboxAnswer> {
  const { webhook, ...changes } = body
  refuseApprovalChangeByAgent(p, changes.requires_approval)
  if (webhook) refuseUnreachableUrl(webhook.endpoint, 'webhook.endpoint')
  return withTenant(tenant, async (tx) => {
    if (at.domainId) await requireDomainOf(tx, at.domainId)
    const inbox = await requireInbox(tx, at.id, { domainId: at.domainId, lock: true })
    if (!inbox.domain_id) refuseReserved(changes.local_part, inbox.domain)
    let updated = await updateInbox(tx, inbox.id, changes, inbox.domain)
    let secret: string | undefined
    if (webhook) {
      const attached = await attachWebhook(tx, updated, webhook, { orgId: p.orgId, agentId: p.agentId })
      secret = attached.secret
      if (attached.endpointId !== inbox.webhook_endpoint_id) {
        updated = await updateInbox(tx, inbox.id, { webhook_endpoint_id: attached.endpointId }, inbox.domain)
      }
    } else if (webhook === null && inbox.webhook_endpoint_id) {
      await detachWebhook(tx, inbox.webhook_endpoint_id)
      updated = await requireInbox(tx, inbox.id)
    }
    return secret ? { ...updated, webhook_secret: secret } : updated
  })
}

/** Deletes the inbox with its threads and messages, and its webhook endpoint where the key may delete it. */
export function removeInbox(tenant: Tenant, at: InboxAddress): Promise<InboxRow> {
  return withTenant(tenant, async (tx) => {
    if (at.domainId) await requireDomainOf(tx, at.domainId)
    const inbox = await requireInbox(tx, at.id, { domainId: at.domainId, lock: true })
    await deleteInbox(tx, inbox.id)
    if (inbox.webhook_endpoint_id) await tx`delete from agentry.webhook_endpoints where id = ${inbox.webhook_endpoint_id}`
    return { ...inbox, webhook_endpoint_id: null }
  })
}

export function setExtractionSchema(tenant: Tenant, at: InboxAddress, schema: InboxRow['extraction_schema']): Promise<InboxRow> {
  return withTenant(tenant, async (tx) => {
    if (at.domainId) await requireDomainOf(tx, at.domainId)
    const inbox = await requireInbox(tx, at.id, { domainId: at.domainId, lock: true })
    return updateInbox(tx, inbox.id, { extraction_schema: schema }, inbox.domain)
  })
}
