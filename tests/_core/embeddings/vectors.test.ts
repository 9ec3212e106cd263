import { describe, expect, it } from 'vitest'
import { normalise, vectorFromBytes, vectorToBytes } from '../../../functions/_core/embeddings/vectors.ts'

describe('a stored vector', () => {
  it('is scaled to length 1', () => {
    expect(Array.from(normalise([3, 4]))).toEqual([0.6000000238418579, 0.800000011920929])
  })

  it('stays all zeros when it is the zero vector, instead of becoming NaN', () => {
    expect(Array.from(normalise([0, 0, 0]))).toEqual([0, 0, 0])
  })

  it('is float32 little-endian bytes, and reads back as it was', () => {
    const vector = Float32Array.from([1, -0.5])
    const bytes = vectorToBytes(vector)
    expect(Array.from(bytes)).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xbf])
    expect(Array.from(vectorFromBytes(bytes))).toEqual([1, -0.5])
  })

  it('reads back from a view into a larger buffer', () => {
    const buffer = new Uint8Array([9, 9, 9, 9, 0, 0, 0x80, 0x3f])
    expect(Array.from(vectorFromBytes(buffer.subarray(4)))).toEqual([1])
  })

  it('refuses bytes that are not a whole number of floats', () => {
    expect(() => vectorFromBytes(new Uint8Array(6))).toThrow(new RangeError('A stored vector has a multiple of 4 bytes, not 6'))
  })
})
