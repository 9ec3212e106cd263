import { readEnv } from '../../_core/env.ts'
import type { DomainRow } from './queries.ts'
import { expectedRecords, recordsWithStatus } from './records.ts'

/** A domain as the API shows it: its records, with the values to paste and their last check. */
export function domainView(row: DomainRow) {
  const { dkim_public_key: _, checks, ...domain } = row
  const { created_at, updated_at, verified_at, ...rest } = domain
  return { ...rest, records: recordsWithStatus(expectedRecords(row, readEnv), checks), verified_at, created_at, updated_at }
}
