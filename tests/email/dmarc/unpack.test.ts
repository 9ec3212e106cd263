import { gzipSync } from 'node:zlib'
import { zipSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import { UnpackError, unpack } from '../../../functions/email/dmarc/unpack.ts'
import { rfc7489Report } from './reports.ts'

const xml = new TextEncoder().encode(rfc7489Report({ domain: 'example.com' }))
const gzipped = new Uint8Array(gzipSync(xml))
const zipped = zipSync({ 'report.xml': xml })

/** What unpacking the bytes throws, or null when it answers. */
function refusal(bytes: Uint8Array, encoding: 'gzip' | 'zip'): string | null {
  try {
    unpack(bytes, encoding)
    return null
  } catch (error) {
    if (error instanceof UnpackError) return error.message
    throw error
  }
}

describe('unpacking a compressed report', () => {
  it('answers the XML of a whole gzip and a whole zip', () => {
    expect(unpack(gzipped, 'gzip')).toEqual(xml)
    expect(unpack(zipped, 'zip')).toEqual(xml)
  })

  it('refuses a gzip cut short at any point, the last block and the trailer included', () => {
    const accepted = []
    for (let n = 1; n < gzipped.byteLength; n++) if (refusal(gzipped.subarray(0, n), 'gzip') === null) accepted.push(n)
    expect(accepted).toEqual([])
    expect(refusal(gzipped.subarray(0, gzipped.byteLength - 3), 'gzip')).toBe('The gzip data ends early: it is truncated.')
  })

  it('refuses a gzip whose content does not match its CRC-32', () => {
    const damaged = gzipped.slice()
    damaged[damaged.byteLength - 8] ^= 0xff
    expect(refusal(damaged, 'gzip')).toBe('The gzip data is corrupt: its CRC-32 does not match.')
  })

  it("refuses a zip whose file does not match its directory's size and CRC-32", () => {
    const view = new DataView(zipped.buffer)
    const end = zipped.byteLength - 22
    const entry = view.getUint32(end + 16, true)
    const badCrc = zipped.slice()
    new DataView(badCrc.buffer).setUint32(entry + 16, view.getUint32(entry + 16, true) ^ 1, true)
    expect(refusal(badCrc, 'zip')).toBe('The zip is corrupt: its file does not match its CRC-32.')
    const badSize = zipped.slice()
    new DataView(badSize.buffer).setUint32(entry + 24, xml.byteLength + 1, true)
    expect(refusal(badSize, 'zip')).toBe('The zip data ends early: it is truncated.')
  })
})
