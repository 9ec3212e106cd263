// A base's vectors as one contiguous row-major matrix of float32, and the dot product of every row with a
// query: the whole cost of an exact vector search. 100k rows of 384 dimensions are 154 MB read per query, so
// the loop runs in WebAssembly with 128-bit SIMD where the runtime has it (Node, Deno and the browsers do),
// about 3× the plain loop's speed on the bench machine; elsewhere a 4-way unrolled JavaScript loop.

/**
 * The kernel, assembled from this WebAssembly text (two f32x4 accumulators, so `dims` is a multiple of 8):
 *
 *   (func (export "dot_rows") (param $matrix i32) (param $query i32) (param $out i32) (param $rows i32) (param $dims i32)
 *     for each row: a, b = f32x4(0); for j in 0..dims step 8 bytes 32:
 *       a += matrix[j..j+4] * query[j..j+4];  b += matrix[j+4..j+8] * query[j+4..j+8]
 *     out[row] = (a + b) summed across lanes;  matrix += dims * 4)
 *   (memory (export "memory") 1)
 */
const kernelBase64 =
  'AGFzbQEAAAABCQFgBX9/f39/AAMCAQAFAwEAAQcVAgZtZW1vcnkCAAhkb3Rfcm93cwAACtYBAdMBAgN/AnsgBEECdCEFIAIgA0EC' +
  'dGohBgJAA0AgAiAGTw0B/QwAAAAAAAAAAAAAAAAAAAAAIQj9DAAAAAAAAAAAAAAAAAAAAAAhCUEAIQcCQANAIAcgBU8NASAIIAAg' +
  'B2r9AAQAIAEgB2r9AAQA/eYB/eQBIQggCSAAIAdq/QAEECABIAdq/QAEEP3mAf3kASEJIAdBIGohBwwACwsgCCAJ/eQBIQggAiAI' +
  '/R8AIAj9HwGSIAj9HwIgCP0fA5KSOAIAIAAgBWohACACQQRqIQIMAAsLCw=='

const pageBytes = 65536

let kernel: WebAssembly.Module | null | undefined

/** The compiled kernel, or null where WebAssembly or its SIMD is missing (or turned off for a test). */
function simdKernel(): WebAssembly.Module | null {
  if (kernel !== undefined) return kernel
  try {
    const bytes = Uint8Array.from(atob(kernelBase64), (ch) => ch.charCodeAt(0))
    kernel = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null
  } catch {
    kernel = null
  }
  return kernel
}

/** Use the plain JavaScript loop whatever the runtime offers: the tests compare both. */
export function disableSimdKernel(disabled: boolean): void {
  kernel = disabled ? null : undefined
}

export interface VectorMatrix {
  readonly rows: number
  readonly dims: number
  /** rows × dims float32, row-major: row r starts at r × dims. Written once, while the base is loaded. */
  readonly values: Float32Array
  /** Which loop scores it. */
  readonly kernel: 'simd' | 'plain'
  /** The matrix's size in memory, for the cache's bound. */
  readonly bytes: number
  /** Each row's dot product with `query` (dims long), in a buffer reused by the next call. */
  dotAll(query: Float32Array): Float32Array
}

export function allocateMatrix(rows: number, dims: number): VectorMatrix {
  const module = dims % 8 === 0 && rows > 0 ? simdKernel() : null
  return module ? simdMatrix(module, rows, dims) : plainMatrix(rows, dims)
}

function simdMatrix(module: WebAssembly.Module, rows: number, dims: number): VectorMatrix {
  const instance = new WebAssembly.Instance(module)
  const memory = instance.exports.memory as WebAssembly.Memory
  const dotRows = instance.exports.dot_rows as (matrix: number, query: number, out: number, rows: number, dims: number) => void
  // Layout: the matrix, then the query, then the scores.
  const queryAt = rows * dims * 4
  const outAt = queryAt + dims * 4
  const bytes = outAt + rows * 4
  memory.grow(Math.ceil(bytes / pageBytes) - memory.buffer.byteLength / pageBytes)
  const values = new Float32Array(memory.buffer, 0, rows * dims)
  const query = new Float32Array(memory.buffer, queryAt, dims)
  const out = new Float32Array(memory.buffer, outAt, rows)
  return {
    rows,
    dims,
    values,
    kernel: 'simd',
    bytes,
    dotAll(q) {
      query.set(q)
      dotRows(0, queryAt, outAt, rows, dims)
      return out
    },
  }
}

function plainMatrix(rows: number, dims: number): VectorMatrix {
  const values = new Float32Array(rows * dims)
  const out = new Float32Array(rows)
  return {
    rows,
    dims,
    values,
    kernel: 'plain',
    bytes: values.byteLength + out.byteLength,
    dotAll(q) {
      const m = values
      const tail = dims - (dims % 4)
      for (let r = 0, o = 0; r < rows; r++, o += dims) {
        // Four independent sums let the CPU overlap the additions.
        let a = 0
        let b = 0
        let c = 0
        let d = 0
        let j = 0
        for (; j < tail; j += 4) {
          a += m[o + j] * q[j]
          b += m[o + j + 1] * q[j + 1]
          c += m[o + j + 2] * q[j + 2]
          d += m[o + j + 3] * q[j + 3]
        }
        for (; j < dims; j++) a += m[o + j] * q[j]
        out[r] = a + b + c + d
      }
      return out
    },
  }
}
