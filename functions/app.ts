import { createApi, createServerApp } from './_core/server.ts'
import { readEnv } from './_core/env.ts'
import { registerDocs } from './_core/openapi.ts'
import { registerConsole } from './console/register-console.tsx'
import { registerCreateAgent } from './agents/create-agent.ts'
import { registerDeleteAgent } from './agents/delete-agent.ts'
import { registerGetAgent } from './agents/get-agent.ts'
import { registerListAgents } from './agents/list-agents.ts'
import { registerUpdateAgent } from './agents/update-agent.ts'
import { registerSendMessage } from './chat/send-message.ts'
import { registerStopGeneration } from './chat/stop-generation.ts'
import { registerDeleteConversation } from './conversations/delete-conversation.ts'
import { registerGetConversation } from './conversations/get-conversation.ts'
import { registerListConversations } from './conversations/list-conversations.ts'
import { registerListMessages } from './conversations/list-messages.ts'
import { registerUpdateConversation } from './conversations/update-conversation.ts'
import { registerListAuditLogs } from './audit/list-audit-logs.ts'
import { registerVerifyAuditLogs } from './audit/verify-audit-logs.ts'
import { registerAgentRegister } from './auth/agent-register.ts'
import { registerAgentVerify } from './auth/agent-verify.ts'
import { registerDeleteBudget } from './budgets/delete-budget.ts'
import { registerListBudgets } from './budgets/list-budgets.ts'
import { registerPutBudget } from './budgets/put-budget.ts'
import { registerGetCosts } from './costs/get-costs.ts'
import { inboundBodyBytes, registerInboundMime } from './email/inbound/inbound-mime-route.ts'
import { registerCreateDataset } from './datasets/create-dataset.ts'
import { registerDeleteDataset } from './datasets/delete-dataset.ts'
import { registerDeleteRow } from './datasets/delete-row.ts'
import { registerDeleteRows } from './datasets/delete-rows.ts'
import { registerGetDataset } from './datasets/get-dataset.ts'
import { registerInsertRows } from './datasets/insert-rows.ts'
import { registerListDatasets } from './datasets/list-datasets.ts'
import { registerListRows } from './datasets/list-rows.ts'
import { registerUpdateDataset } from './datasets/update-dataset.ts'
import { registerUpdateRow } from './datasets/update-row.ts'
import { registerUpdateRows } from './datasets/update-rows.ts'
import { registerRestDelete } from './datasets/rest/delete-rows.ts'
import { registerRestInsert } from './datasets/rest/insert-rows.ts'
import { registerRestRead } from './datasets/rest/read-rows.ts'
import { registerRestUpdate } from './datasets/rest/update-rows.ts'
import { registerDownloadAttachment } from './email/attachments/download-attachment.ts'
import { registerGetAttachment } from './email/attachments/get-attachment.ts'
import { registerGetAttachmentUrl } from './email/attachments/get-attachment-url.ts'
import { registerUploadAttachment, uploadBodyBytes } from './email/attachments/upload-attachment.ts'
import { registerCreateDomain } from './email/domains/create-domain.ts'
import { registerGetDomain } from './email/domains/get-domain.ts'
import { registerGetRecords } from './email/domains/get-records.ts'
import { registerListDomains } from './email/domains/list-domains.ts'
import { registerVerifyDomain } from './email/domains/verify-domain.ts'
import { registerGetSummary as registerGetDmarcSummary } from './email/dmarc/get-summary.ts'
import { registerListReports as registerListDmarcReports } from './email/dmarc/list-reports.ts'
import { reportBodyBytes } from './email/dmarc/read-body.ts'
import { registerSubmitReport as registerSubmitDmarcReport } from './email/dmarc/submit-report.ts'
import { registerDeleteSuppression } from './email/delivery/delete-suppression.ts'
import { registerGetDeliveryMetrics } from './email/delivery/get-metrics.ts'
import { registerListDeliveryEvents } from './email/delivery/list-events.ts'
import { registerListSuppressions } from './email/delivery/list-suppressions.ts'
import { registerAddInboxEntry } from './email/lists/add-inbox-entry.ts'
import { registerAddOrgEntry } from './email/lists/add-org-entry.ts'
import { registerGetFiltering } from './email/lists/get-filtering.ts'
import { registerListInboxEntries } from './email/lists/list-inbox-entries.ts'
import { registerListOrgEntries } from './email/lists/list-org-entries.ts'
import { registerRemoveInboxEntry } from './email/lists/remove-inbox-entry.ts'
import { registerRemoveOrgEntry } from './email/lists/remove-org-entry.ts'
import { registerUpdateFiltering } from './email/lists/update-filtering.ts'
import { registerListOutbox } from './email/outbound/list-outbox.ts'
import { registerReleaseOutbox } from './email/outbound/release-outbox.ts'
import { registerSendEmail } from './email/outbound/send-message.ts'
import { registerCancelSchedule } from './email/outbound/cancel-schedule.ts'
import { registerCreateDraft } from './email/drafts/create-draft.ts'
import { registerDeleteDraft } from './email/drafts/delete-draft.ts'
import { registerGetDraft } from './email/drafts/get-draft.ts'
import { registerListDrafts } from './email/drafts/list-drafts.ts'
import { registerSendDraft } from './email/drafts/send-draft.ts'
import { registerUpdateDraft } from './email/drafts/update-draft.ts'
import { registerCreateDomainInbox } from './email/inboxes/create-domain-inbox.ts'
import { registerCreateInbox } from './email/inboxes/create-inbox.ts'
import { registerDeleteDomainInbox } from './email/inboxes/delete-domain-inbox.ts'
import { registerDeleteInbox } from './email/inboxes/delete-inbox.ts'
import { registerGetDomainInbox } from './email/inboxes/get-domain-inbox.ts'
import { registerGetInbox } from './email/inboxes/get-inbox.ts'
import { registerListDomainInboxes } from './email/inboxes/list-domain-inboxes.ts'
import { registerListInboxes } from './email/inboxes/list-inboxes.ts'
import { registerRemoveExtractionSchema } from './email/inboxes/remove-extraction-schema.ts'
import { registerRemoveInboxExtractionSchema } from './email/inboxes/remove-inbox-extraction-schema.ts'
import { registerSetInboxExtractionSchema } from './email/inboxes/set-inbox-extraction-schema.ts'
import { registerSetExtractionSchema } from './email/inboxes/set-extraction-schema.ts'
import { registerUpdateDomainInbox } from './email/inboxes/update-domain-inbox.ts'
import { registerUpdateInbox } from './email/inboxes/update-inbox.ts'
import { registerListEmailMessages } from './email/messages/list-messages.ts'
import { registerForwardMessage } from './email/replies/forward-message.ts'
import { registerReplyToMessage } from './email/replies/reply-message.ts'
import { registerConfirmDeletionRequest } from './data/confirm-deletion-request.ts'
import { registerCreateDeletionRequest } from './data/create-deletion-request.ts'
import { registerGetDeletionRequest } from './data/get-deletion-request.ts'
import { sharedDomain } from './email/shared-domain.ts'
import { registerAddThreadTags } from './email/threads/add-thread-tags.ts'
import { registerAssignThread } from './email/threads/assign-thread.ts'
import { registerGetThreadMetadata } from './email/threads/get-thread-metadata.ts'
import { registerListThreadMessages } from './email/threads/list-thread-messages.ts'
import { registerListThreads } from './email/threads/list-threads.ts'
import { registerRemoveThreadTags } from './email/threads/remove-thread-tags.ts'
import { registerSearchThreads } from './email/threads/search-threads.ts'
import { registerSetThreadStatus } from './email/threads/set-thread-status.ts'
import { registerCreateDeployment } from './deployments/create-deployment.ts'
import { registerGetDeployment } from './deployments/get-deployment.ts'
import { registerListDeployments } from './deployments/list-deployments.ts'
import { registerRollbackDeployment } from './deployments/rollback-deployment.ts'
import { registerCreateJudge } from './judges/create-judge.ts'
import { registerDeleteJudge } from './judges/delete-judge.ts'
import { registerGetJudge } from './judges/get-judge.ts'
import { registerListJudges } from './judges/list-judges.ts'
import { registerListRunJudgements } from './judges/list-run-judgements.ts'
import { registerCreateBase } from './knowledge/create-base.ts'
import { registerCreateItem } from './knowledge/create-item.ts'
import { registerDeleteBase } from './knowledge/delete-base.ts'
import { registerDeleteEntry } from './knowledge/delete-entry.ts'
import { registerDeleteItem } from './knowledge/delete-item.ts'
import { registerGetBase } from './knowledge/get-base.ts'
import { registerGetItem } from './knowledge/get-item.ts'
import { registerListBases } from './knowledge/list-bases.ts'
import { registerListEntries } from './knowledge/list-entries.ts'
import { registerListItems } from './knowledge/list-items.ts'
import { registerUpdateBase } from './knowledge/update-base.ts'
import { registerUpdateItem } from './knowledge/update-item.ts'
import { registerUploadText } from './knowledge/upload-text.ts'
import { registerQueryBase } from './knowledge/query-base.ts'
import { registerQueryKnowledge } from './knowledge/query-knowledge.ts'
import { retrieveForAgent } from './knowledge/retrieval.ts'
import { registerCreateKey } from './keys/create-key.ts'
import { registerDeleteKey } from './keys/delete-key.ts'
import { registerGetKey } from './keys/get-key.ts'
import { registerListKeys } from './keys/list-keys.ts'
import { registerRotateKey } from './keys/rotate-key.ts'
import { registerGetMe } from './me/get-me.ts'
import { registerGetOrg } from './org/get-org.ts'
import { registerUpdateOrg } from './org/update-org.ts'
import { registerCancelRun } from './runs/cancel-run.ts'
import { registerGetRun } from './runs/get-run.ts'
import { registerListRuns } from './runs/list-runs.ts'
import { registerRunEvents } from './runs/run-events.ts'
import { registerTriggerRun } from './runs/trigger-run.ts'
import { registerCreateEndpoint } from './webhooks/create-endpoint.ts'
import { registerDeleteEndpoint } from './webhooks/delete-endpoint.ts'
import { registerEndpointHealth } from './webhooks/endpoint-health.ts'
import { registerEventsSocket } from './events/events-socket.ts'
import { registerStreamEvents } from './events/stream-events.ts'
import { registerGetDelivery } from './webhooks/get-delivery.ts'
import { registerGetEndpoint } from './webhooks/get-endpoint.ts'
import { registerListDeliveries } from './webhooks/list-deliveries.ts'
import { registerListEndpoints } from './webhooks/list-endpoints.ts'
import { registerListEventTypes } from './webhooks/list-event-types.ts'
import { registerRecoverEndpoint } from './webhooks/recover-endpoint.ts'
import { registerRetryDelivery } from './webhooks/retry-delivery.ts'
import { registerRotateSecret } from './webhooks/rotate-secret.ts'
import { registerTestEndpoint } from './webhooks/test-endpoint.ts'
import { registerUpdateEndpoint } from './webhooks/update-endpoint.ts'

/** The Agentry API, runtime-neutral: `app.fetch` serves it under Deno (Supabase) and Node alike. */
export function createApp() {
  const v1 = createApi()

  registerGetMe(v1)
  registerGetOrg(v1)
  registerUpdateOrg(v1)

  registerListKeys(v1)
  registerGetKey(v1)
  registerCreateKey(v1)
  registerRotateKey(v1)
  registerDeleteKey(v1)

  registerListAuditLogs(v1)
  registerVerifyAuditLogs(v1)

  // An agent signing itself up: no credential; its inbox goes on email's shared domain, handed in here.
  const agentInboxDomain = { sharedDomain: () => sharedDomain(readEnv) }
  registerAgentRegister(v1, agentInboxDomain)
  registerAgentVerify(v1, agentInboxDomain)

  registerListAgents(v1)
  registerCreateAgent(v1)
  registerGetAgent(v1)
  registerUpdateAgent(v1)
  registerDeleteAgent(v1)
  // Chat searches an agent's knowledge through what it is given here: chat and knowledge import neither other.
  registerSendMessage(v1, { retriever: retrieveForAgent })
  registerStopGeneration(v1)
  registerListConversations(v1)
  registerGetConversation(v1)
  registerUpdateConversation(v1)
  registerDeleteConversation(v1)
  registerListMessages(v1)

  registerListJudges(v1)
  registerCreateJudge(v1)
  registerGetJudge(v1)
  registerDeleteJudge(v1)
  registerListRunJudgements(v1)
  registerListDeployments(v1)
  registerCreateDeployment(v1)
  registerGetDeployment(v1)
  registerRollbackDeployment(v1)

  registerListDatasets(v1)
  registerCreateDataset(v1)
  registerGetDataset(v1)
  registerUpdateDataset(v1)
  registerDeleteDataset(v1)
  registerListRows(v1)
  registerInsertRows(v1)
  registerUpdateRows(v1)
  registerDeleteRows(v1)
  registerUpdateRow(v1)
  registerDeleteRow(v1)

  registerListBases(v1)
  registerCreateBase(v1)
  registerGetBase(v1)
  registerUpdateBase(v1)
  registerDeleteBase(v1)
  registerListItems(v1)
  registerCreateItem(v1)
  registerGetItem(v1)
  registerUpdateItem(v1)
  registerDeleteItem(v1)
  registerQueryBase(v1)
  // Connic's shape: an environment's default base, at our paths and at /projects/{org_id}/knowledge/….
  registerUploadText(v1)
  registerListEntries(v1)
  registerDeleteEntry(v1)
  registerQueryKnowledge(v1)

  // Runs, at our paths and at Connic's (/projects/{org_id}/agents/{agent_name}/trigger, /projects/{org_id}/runs/{run_id}).
  registerTriggerRun(v1)
  registerListRuns(v1)
  registerGetRun(v1)
  registerCancelRun(v1)
  registerRunEvents(v1)

  // What the model calls cost, and the limits every model call is checked against first.
  registerGetCosts(v1)
  registerListBudgets(v1)
  registerPutBudget(v1)
  registerDeleteBudget(v1)

  // Fixed paths before /webhooks/{id}, which would otherwise take them.
  registerListEventTypes(v1)
  registerListDeliveries(v1)
  registerGetDelivery(v1)
  registerRetryDelivery(v1)
  registerEndpointHealth(v1)
  registerListEndpoints(v1)
  registerCreateEndpoint(v1)
  registerGetEndpoint(v1)
  registerUpdateEndpoint(v1)
  registerDeleteEndpoint(v1)
  registerRotateSecret(v1)
  registerTestEndpoint(v1)
  registerRecoverEndpoint(v1)
  // The same events live, for agents with no public URL to receive webhooks at.
  registerStreamEvents(v1)
  registerEventsSocket(v1)

  registerUploadAttachment(v1)
  registerGetAttachment(v1)
  registerGetAttachmentUrl(v1)
  // The link is the credential: no API key, and not an operation of the document (see the route's file).
  registerDownloadAttachment(v1)

  registerListDomains(v1)
  registerCreateDomain(v1)
  registerGetDomain(v1)
  registerGetRecords(v1)
  registerVerifyDomain(v1)
  registerSubmitDmarcReport(v1)
  registerListDmarcReports(v1)
  registerGetDmarcSummary(v1)

  registerSendEmail(v1)
  registerCancelSchedule(v1)
  registerCreateDraft(v1)
  registerListDrafts(v1)
  registerGetDraft(v1)
  registerUpdateDraft(v1)
  registerDeleteDraft(v1)
  registerSendDraft(v1)
  registerListOutbox(v1)
  registerReleaseOutbox(v1)
  registerListDeliveryEvents(v1)
  registerGetDeliveryMetrics(v1)
  registerListSuppressions(v1)
  registerDeleteSuppression(v1)
  registerListInboxEntries(v1)
  registerAddInboxEntry(v1)
  registerRemoveInboxEntry(v1)
  registerListOrgEntries(v1)
  registerAddOrgEntry(v1)
  registerRemoveOrgEntry(v1)
  registerGetFiltering(v1)
  registerUpdateFiltering(v1)
  registerListInboxes(v1)
  registerCreateInbox(v1)
  registerGetInbox(v1)
  registerUpdateInbox(v1)
  registerDeleteInbox(v1)
  registerSetInboxExtractionSchema(v1)
  registerRemoveInboxExtractionSchema(v1)
  registerListDomainInboxes(v1)
  registerCreateDomainInbox(v1)
  registerGetDomainInbox(v1)
  registerUpdateDomainInbox(v1)
  registerDeleteDomainInbox(v1)
  registerSetExtractionSchema(v1)
  registerRemoveExtractionSchema(v1)

  registerListThreads(v1)
  registerListThreadMessages(v1)
  registerGetThreadMetadata(v1)
  registerSetThreadStatus(v1)
  registerAddThreadTags(v1)
  registerRemoveThreadTags(v1)
  registerAssignThread(v1)
  registerSearchThreads(v1)
  registerListEmailMessages(v1)
  registerReplyToMessage(v1)
  registerForwardMessage(v1)
  registerCreateDeletionRequest(v1)
  registerConfirmDeletionRequest(v1)
  registerGetDeletionRequest(v1)

  // Inbound mail from a provider's webhook: a shared secret instead of a key, not an operation of the document.
  registerInboundMime(v1)

  registerDocs(v1)
  // The web console: pages whose scripts call the API above with the signed-in credential; not operations.
  registerConsole(v1)

  // The same datasets in PostgREST's wire format, for supabase-js and other PostgREST clients.
  const rest = createApi()
  registerRestRead(rest)
  registerRestInsert(rest)
  registerRestUpdate(rest)
  registerRestDelete(rest)

  return createServerApp(v1, rest, {
    largerBodies: { '/attachments/upload': uploadBodyBytes, '/inbound/mime': inboundBodyBytes(), '/dmarc/reports': reportBodyBytes },
  })
}

export const app = createApp()
