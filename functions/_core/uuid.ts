const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** True for a UUID in its usual text form, in either case: the only form ids are taken in. */
export function isUuid(text: string): boolean {
  return uuidShape.test(text)
}
