// Embeddings as they are stored: float32 little-endian in a bytea, L2-normalised, so that the cosine
// similarity of two stored vectors is their dot product.

/** `vector` scaled to length 1 (a zero vector stays zero). */
export function normalise(vector: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(vector)
  let sum = 0
  for (let i = 0; i < out.length; i++) sum += out[i] * out[i]
  const length = Math.sqrt(sum)
  if (length > 0) for (let i = 0; i < out.length; i++) out[i] /= length
  return out
}

/** The bytes a vector is stored as: float32, little-endian, whatever the machine's own order. */
export function vectorToBytes(vector: Float32Array): Uint8Array {
  const bytes = new Uint8Array(vector.length * 4)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < vector.length; i++) view.setFloat32(i * 4, vector[i], true)
  return bytes
}

/** A stored vector read back; refuses bytes that cannot be one. */
export function vectorFromBytes(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0) throw new RangeError(`A stored vector has a multiple of 4 bytes, not ${bytes.length}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const vector = new Float32Array(bytes.length / 4)
  for (let i = 0; i < vector.length; i++) vector[i] = view.getFloat32(i * 4, true)
  return vector
}
