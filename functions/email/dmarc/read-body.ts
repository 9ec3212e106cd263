import { readCappedBody } from '../../_core/capped-body.ts'
import { ApiError } from '../../_core/errors.ts'
import { type Encoding, sniff } from './unpack.ts'

/**
 * The most a submission may carry. Above the API's usual cap: a large receiver's uncompressed daily report
 * runs to megabytes. The server lets this path through up to it (functions/app.ts), and reading stops at it.
 */
export const reportBodyBytes = 10 * 1024 * 1024

const xmlTypes = new Set(['application/xml', 'text/xml'])
const gzipTypes = new Set(['application/gzip', 'application/x-gzip'])
const zipTypes = new Set(['application/zip', 'application/x-zip-compressed', 'application/x-zip'])
// Sent by mail gateways and scripts that do not say what they forward: the bytes say it instead.
const genericTypes = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'text/plain'])

/** The body, up to the cap, and how it is encoded: by its content type, or by its first bytes for a generic one. */
export async function readReportBody(request: Request): Promise<{ bytes: Uint8Array; encoding: Encoding }> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase()
  const declared: Encoding | null = xmlTypes.has(type) ? 'xml' : gzipTypes.has(type) ? 'gzip' : zipTypes.has(type) ? 'zip' : null
  if (!declared && !genericTypes.has(type)) {
    throw new ApiError('unsupported_media_type', 'Send the report as application/xml, application/gzip or application/zip.')
  }
  const bytes = await readCappedBody(request, reportBodyBytes, tooLarge)
  if (bytes.byteLength === 0) throw new ApiError('bad_request', 'The body is empty: send the aggregate report.')
  const sniffed = sniff(bytes)
  if (declared === 'gzip' || declared === 'zip') {
    if (sniffed !== declared) throw new ApiError('bad_request', `The body is sent as ${type} but is not ${declared} data.`)
    return { bytes, encoding: declared }
  }
  // Declared XML that is in fact compressed is read for what it is; anything else declared XML is parsed as XML.
  const encoding = sniffed ?? declared
  if (!encoding) throw new ApiError('bad_request', 'The body is neither XML nor gzip nor zip data.')
  return { bytes, encoding }
}

function tooLarge(): ApiError {
  // The rest of an oversized body is never read, so the connection cannot be reused.
  return new ApiError('payload_too_large', `The report exceeds the ${reportBodyBytes}-byte limit.`, undefined, { Connection: 'close' })
}
