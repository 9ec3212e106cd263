// A submitted report's bytes to its XML: as sent, gunzipped, or the one file of a zip. Receivers send all
// three (RFC 7489 §7.2.1.1); whoever submits may also send something built to exhaust us, so every
// decompression streams into a hard cap, and a zip is read from its central directory, which says exactly
// what it holds before anything is inflated.
import { Gunzip, Inflate } from 'fflate'

/** The most XML a report may unpack to. The largest receivers' daily reports stay well under it. */
export const maxReportXmlBytes = 20 * 1024 * 1024
/** Real reports compress 10–50 to 1; past this ratio (beyond the first megabyte) the archive is a bomb. */
export const maxCompressionRatio = 200
const ratioFloorBytes = 1024 * 1024
// Small pushes keep what one push may inflate small too: deflate expands a byte to at most ~1,032.
const pushBytes = 4096

export type Encoding = 'xml' | 'gzip' | 'zip'

/** Why a submission cannot be unpacked; `tooLarge` ones are answered 413, the rest 400. */
export class UnpackError extends Error {
  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message)
  }
}

const startsWith = (bytes: Uint8Array, magic: number[]) => magic.every((b, i) => bytes[i] === b)
const gzipMagic = [0x1f, 0x8b]
const zipMagic = [0x50, 0x4b, 0x03, 0x04]
const emptyZipMagic = [0x50, 0x4b, 0x05, 0x06]

/** What the bytes are by their first bytes; null when they look like none of the three. */
export function sniff(bytes: Uint8Array): Encoding | null {
  if (startsWith(bytes, gzipMagic)) return 'gzip'
  if (startsWith(bytes, zipMagic) || startsWith(bytes, emptyZipMagic)) return 'zip'
  const head = new TextDecoder()
    .decode(bytes.subarray(0, 64))
    .replace(/^\uFEFF/, '')
    .trimStart()
  return head.startsWith('<') ? 'xml' : null
}

/** The report's XML bytes. */
export function unpack(bytes: Uint8Array, encoding: Encoding): Uint8Array {
  if (encoding === 'xml') {
    if (bytes.byteLength > maxReportXmlBytes) throw overXmlCap()
    return bytes
  }
  const cap = Math.min(maxReportXmlBytes, Math.max(ratioFloorBytes, bytes.byteLength * maxCompressionRatio))
  const xml = encoding === 'gzip' ? gunzip(bytes, cap) : unzipOne(bytes, cap)
  if (sniff(xml) === 'gzip' || sniff(xml) === 'zip')
    throw new UnpackError('The archive holds another archive; send the report itself, compressed once.')
  return xml
}

function overXmlCap(): UnpackError {
  return new UnpackError(`The report's XML exceeds the ${maxReportXmlBytes}-byte limit.`, true)
}

function overCap(cap: number): UnpackError {
  return cap >= maxReportXmlBytes
    ? overXmlCap()
    : new UnpackError(
        `The archive unpacks to more than ${maxCompressionRatio} times its size (over ${cap} bytes): refused as a decompression bomb.`,
        true,
      )
}

/** Collects a stream's output, refusing it the moment it passes `cap`. */
function collector(cap: number) {
  const chunks: Uint8Array[] = []
  let size = 0
  return {
    take(chunk: Uint8Array) {
      size += chunk.byteLength
      if (size > cap) throw overCap(cap)
      chunks.push(chunk)
    },
    bytes(): Uint8Array {
      const out = new Uint8Array(size)
      let at = 0
      for (const chunk of chunks) {
        out.set(chunk, at)
        at += chunk.byteLength
      }
      return out
    },
  }
}

function feed(stream: { push(chunk: Uint8Array, final?: boolean): void }, bytes: Uint8Array, what: string): void {
  try {
    if (bytes.byteLength === 0) stream.push(bytes, true)
    for (let at = 0; at < bytes.byteLength; at += pushBytes) {
      stream.push(bytes.subarray(at, at + pushBytes), at + pushBytes >= bytes.byteLength)
    }
  } catch (error) {
    if (error instanceof UnpackError) throw error
    const message = (error as Error).message
    if (message === 'unexpected EOF') throw new UnpackError(`The ${what} ends early: it is truncated.`)
    throw new UnpackError(`The ${what} is corrupt: ${message}.`)
  }
}

function gunzip(bytes: Uint8Array, cap: number): Uint8Array {
  const out = collector(cap)
  let ended = false
  const stream = new Gunzip((chunk, final) => {
    out.take(chunk)
    if (final) ended = true
  })
  feed(stream, bytes, 'gzip data')
  if (!ended) throw new UnpackError('The gzip data ends early: it is truncated.')
  // The inflater may end a stream cut inside its last block without a word: the trailer's size and CRC-32
  // (RFC 1952 §2.3) say whether all of it arrived intact.
  const xml = out.bytes()
  if (bytes.byteLength < 18) throw new UnpackError('The gzip data ends early: it is truncated.')
  const trailer = new DataView(bytes.buffer, bytes.byteOffset + bytes.byteLength - 8, 8)
  if (trailer.getUint32(4, true) !== xml.byteLength % 2 ** 32) throw new UnpackError('The gzip data ends early: it is truncated.')
  if (trailer.getUint32(0, true) !== crc32(xml)) throw new UnpackError('The gzip data is corrupt: its CRC-32 does not match.')
  return xml
}

let crcTable: Uint32Array | null = null

/** CRC-32 as gzip and zip record it for their contents. */
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      crcTable[n] = c >>> 0
    }
  }
  let c = 0xffffffff
  for (let i = 0; i < bytes.byteLength; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** The file's content as its directory entry describes it (size and CRC-32), or what is wrong with it. */
function checked(file: ZipEntry, xml: Uint8Array): Uint8Array {
  if (xml.byteLength !== file.size) throw new UnpackError('The zip data ends early: it is truncated.')
  if (crc32(xml) !== file.crc) throw new UnpackError('The zip is corrupt: its file does not match its CRC-32.')
  return xml
}

// Offsets and signatures of the zip format (APPNOTE.TXT §4.3).
const endOfDirectorySignature = 0x06054b50
const directoryEntrySignature = 0x02014b50
const localHeaderSignature = 0x04034b50

interface ZipEntry {
  name: string
  method: number
  flags: number
  compressedSize: number
  /** The uncompressed size and CRC-32 the directory records. */
  size: number
  crc: number
  localHeaderOffset: number
}

function unzipOne(bytes: Uint8Array, cap: number): Uint8Array {
  const { total, entries } = zipEntries(bytes)
  const files = entries.filter((entry) => !entry.name.endsWith('/'))
  const fileCount = files.length + (total - entries.length)
  if (fileCount !== 1) {
    throw new UnpackError(`The zip holds ${fileCount} files; it must hold exactly one, the report's XML.`)
  }
  const [file] = files
  if (/\.(zip|gz|gzip|tgz|tar|7z|rar)$/i.test(file.name)) {
    throw new UnpackError(`The zip holds another archive (${file.name}); send the report itself, compressed once.`)
  }
  if (file.flags & 0x1) throw new UnpackError('The zip is encrypted.')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const at = file.localHeaderOffset
  if (at + 30 > bytes.byteLength || view.getUint32(at, true) !== localHeaderSignature) {
    throw new UnpackError('The zip is corrupt: its directory points at no file.')
  }
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true)
  const data = bytes.subarray(start, start + file.compressedSize)
  if (start + file.compressedSize > bytes.byteLength) throw new UnpackError('The zip is truncated.')
  if (file.method === 0) {
    if (data.byteLength > cap) throw overCap(cap)
    return checked(file, data)
  }
  if (file.method !== 8)
    throw new UnpackError(`The zip's file is compressed with method ${file.method}; only deflate (8) and stored (0) are read.`)
  const out = collector(cap)
  let ended = false
  const stream = new Inflate((chunk, final) => {
    out.take(chunk)
    if (final) ended = true
  })
  feed(stream, data, 'zip data')
  if (!ended) throw new UnpackError('The zip data ends early: it is truncated.')
  return checked(file, out.bytes())
}

/** The central directory's entries, found from its end record (which may follow a comment of up to 64 KB). */
function zipEntries(bytes: Uint8Array): { total: number; entries: ZipEntry[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let end = -1
  for (let at = bytes.byteLength - 22; at >= Math.max(0, bytes.byteLength - 22 - 0xffff); at--) {
    if (view.getUint32(at, true) === endOfDirectorySignature) {
      end = at
      break
    }
  }
  if (end < 0) throw new UnpackError('The zip is corrupt or truncated: it has no central directory.')
  const count = view.getUint16(end + 10, true)
  const directoryOffset = view.getUint32(end + 16, true)
  if (count === 0xffff || directoryOffset === 0xffffffff) throw new UnpackError('ZIP64 archives are not read; a report needs none.')
  // Past a few entries the count alone refuses the archive: no need to read them all.
  const entries: ZipEntry[] = []
  let at = directoryOffset
  for (let i = 0; i < Math.min(count, 16); i++) {
    if (at + 46 > bytes.byteLength || view.getUint32(at, true) !== directoryEntrySignature) {
      throw new UnpackError('The zip is corrupt: its central directory is damaged.')
    }
    const nameLength = view.getUint16(at + 28, true)
    const compressedSize = view.getUint32(at + 20, true)
    if (compressedSize === 0xffffffff) throw new UnpackError('ZIP64 archives are not read; a report needs none.')
    entries.push({
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      compressedSize,
      size: view.getUint32(at + 24, true),
      crc: view.getUint32(at + 16, true),
      localHeaderOffset: view.getUint32(at + 42, true),
      name: new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength)),
    })
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true)
  }
  return { total: count, entries }
}
