// Connic's paths (/projects/{org_id}/…) name the project, which is the caller's organisation.
import type { Principal } from '../_core/auth.ts'
import { notFound } from '../_core/errors.ts'

/** Another organisation's project is answered as not found, as the knowledge routes answer it. */
export function refuseOtherProject(principal: Principal, orgId: string | undefined): void {
  if (orgId !== undefined && orgId !== principal.orgId) throw notFound('Project')
}
