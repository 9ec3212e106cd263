import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { ApiError } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import type { Api } from '../../_core/server.ts'
import { type ParsedReport, parseReport, UnreadableReport } from './parse-report.ts'
import { existingReport, insertReport, reportById, requireDomain } from './queries.ts'
import { readReportBody } from './read-body.ts'
import { SubmittedReport, SubmitReportQuery } from './schemas.ts'
import { UnpackError, unpack } from './unpack.ts'
import { reportView } from './view.ts'

const binary = { schema: { type: 'string', format: 'binary' } } as const

export const submitReportRoute = defineRoute({
  method: 'post',
  path: '/dmarc/reports',
  scope: 'domains:write',
  tags: ['Email'],
  summary: 'Submit a DMARC aggregate report',
  description:
    'The XML a receiver sent to the domain’s `rua` address (RFC 7489 appendix C or RFC 9990), as is, gzipped or zipped ' +
    '(one file). With a generic content type (`application/octet-stream`) the encoding is read from the first bytes. ' +
    'The body is required; compressed reports may unpack to at most 20 MB, and at most 200 times their size. A report ' +
    'is kept once per reporter (`org_name`) and `report_id`: submitting it again answers 200 with the stored one and ' +
    '`duplicate: true`.',
  request: {
    query: SubmitReportQuery,
    body: {
      required: false,
      content: { 'application/xml': { schema: { type: 'string' } }, 'application/gzip': binary, 'application/zip': binary },
    },
  },
  errors: {
    400: 'The body is not XML, gzip or zip; it is malformed or corrupt; it is not a DMARC aggregate report; or the query is invalid',
    403: "The credential lacks the route's scope, or is an agent key",
    404: 'The organisation has no custom domain with this id',
    413: 'The body is over 10 MB, or unpacks to over 20 MB or over 200 times its size',
    415: 'The body is sent as something other than XML, gzip, zip or application/octet-stream',
    422: "The report's policy_published domain is neither the domain nor one of its subdomains",
  },
  responses: {
    200: {
      description: 'This report had been submitted before: the stored one',
      content: { 'application/json': { schema: SubmittedReport } },
    },
    201: { description: 'The stored report', content: { 'application/json': { schema: SubmittedReport } } },
  },
})

export const registerSubmitReport = (api: Api) =>
  api.openapi(submitReportRoute, async (c) => {
    const p = c.get('principal')
    if (p.agentId) throw new ApiError('insufficient_scope', 'An agent key cannot submit DMARC reports; use an organisation key.')
    const { domain_id } = c.req.valid('query')
    const { bytes, encoding } = await readReportBody(c.req.raw)
    const report = readReport(bytes, encoding)
    const outcome = await withTenant(tenantOf(c), async (tx) => {
      const domain = await requireDomain(tx, { id: domain_id })
      if (report.policyDomain !== domain.name && !report.policyDomain.endsWith(`.${domain.name}`)) {
        throw new ApiError(
          'unprocessable',
          `The report is about ${report.policyDomain} (policy_published/domain), which is not ${domain.name} or a subdomain of it.`,
        )
      }
      const id = await insertReport(tx, p.orgId, domain.id, report)
      return id
        ? { row: await reportById(tx, id), duplicate: false }
        : { row: await existingReport(tx, domain.id, report), duplicate: true }
    })
    return c.json({ data: reportView(outcome.row), duplicate: outcome.duplicate }, outcome.duplicate ? 200 : 201)
  })

function readReport(bytes: Uint8Array, encoding: Parameters<typeof unpack>[1]): ParsedReport {
  try {
    return parseReport(unpack(bytes, encoding))
  } catch (error) {
    if (error instanceof UnpackError) throw new ApiError(error.tooLarge ? 'payload_too_large' : 'bad_request', error.message)
    if (error instanceof UnreadableReport) throw new ApiError('bad_request', error.message)
    throw error
  }
}
