// An upload's content: base64 as JSON carries it, decoded with Web APIs only, its size known before decoding.
import { ApiError } from '../../_core/errors.ts'
import { maxAttachmentBytes } from './schemas.ts'

/** The bytes `base64` encodes (line breaks and spaces allowed, as `base64` wraps them); 400 or 413 otherwise. */
export function decodeContent(base64: string): Uint8Array {
  const text = base64.replace(/[\s]+/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
    throw new ApiError('validation_failed', 'Invalid request: content: send the file base64-encoded.', {
      fields: [{ field: 'content', message: 'Send the file base64-encoded.' }],
    })
  }
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0
  const size = Math.floor((text.length * 3) / 4) - padding
  if (size > maxAttachmentBytes) {
    throw new ApiError('payload_too_large', `The file is ${size} bytes; an attachment holds at most ${maxAttachmentBytes} bytes (10 MB).`)
  }
  const binary = atob(text.padEnd(Math.ceil(text.length / 4) * 4, '='))
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
}
