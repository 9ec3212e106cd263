// Who may send a draft held for approval: the organisation, never an agent. An organisation key (bound to
// no agent) holding `drafts:approve` or `*`, or an owner or admin signed in.
import type { Principal } from '../../_core/auth.ts'
import { draftsApproveScope } from '../../_core/scopes.ts'

export function mayApprove(p: Principal): boolean {
  if (p.kind === 'user') return p.role === 'owner' || p.role === 'admin'
  if (p.kind !== 'org_key' || p.agentId) return false
  return p.scopes.includes('*') || p.scopes.includes(draftsApproveScope)
}

export const approvalRequiredMessage =
  'This draft waits for approval: only an organisation key with drafts:approve (or *) or an owner or admin may send it.'
