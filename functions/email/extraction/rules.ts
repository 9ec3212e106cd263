// What can be extracted with no model: fields the email labels itself (`Order ID: 1042`), a value of a
// field's enum named anywhere in it, and yes/no answers written beside a field's name. Crude by design, and
// labelled as such (`_extractor: 'rules'`), so no one takes it for a model's reading.

interface PropertySchema {
  type?: unknown
  enum?: unknown
  items?: unknown
}

/** A name compared as people write it: `Order ID`, `order_id` and `order-id` are one. */
const comparable = (name: string) => name.toLowerCase().replace(/[\s_-]+/g, '')

/** `label: value` (or `label = value`) lines, by comparable label; the first of each label wins. */
function labelledValues(text: string): Map<string, string> {
  const values = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:[-*•>]\s*)?([\p{L}\p{N}][\p{L}\p{N} _-]{0,60}?)\s*[:=]\s*(.+?)\s*$/u.exec(line)
    if (!match) continue
    const label = comparable(match[1])
    if (!values.has(label)) values.set(label, match[2])
  }
  return values
}

const typeOf = (property: PropertySchema): string | undefined => {
  const type = Array.isArray(property.type) ? property.type.find((t) => t !== 'null') : property.type
  return typeof type === 'string' ? type : undefined
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const wordsOf = (name: string) =>
  name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter(Boolean)

function booleanOf(text: string): boolean | undefined {
  const word = text.trim().toLowerCase()
  if (/^(?:yes|y|true|1)\b/.test(word)) return true
  if (/^(?:no|n|false|0)\b/.test(word)) return false
  return undefined
}

/** The enum member `text` names: equal to it, or the first named inside it as a word. */
function enumMember(members: unknown[], text: string): unknown {
  const wanted = text.trim().toLowerCase()
  const equal = members.find((m) => String(m).toLowerCase() === wanted)
  if (equal !== undefined) return equal
  return firstNamed(members, text)
}

/** Of the string members, the one named earliest in the text, as a whole word. */
function firstNamed(members: unknown[], text: string): unknown {
  let best: { member: unknown; at: number } | undefined
  for (const member of members) {
    if (typeof member !== 'string' || member === '') continue
    const at = text.search(new RegExp(`(?<![\\p{L}\\p{N}])${escaped(member)}(?![\\p{L}\\p{N}])`, 'iu'))
    if (at >= 0 && (!best || at < best.at)) best = { member, at }
  }
  return best?.member
}

/** A labelled value as the property's type has it; undefined when it cannot be. */
function valueFor(property: PropertySchema, text: string): unknown {
  if (Array.isArray(property.enum)) return enumMember(property.enum, text)
  switch (typeOf(property)) {
    case 'boolean':
      return booleanOf(text)
    case 'integer':
      return /^-?\d[\d,]*$/.test(text.trim()) ? Number(text.trim().replaceAll(',', '')) : undefined
    case 'number': {
      const number = Number(text.trim().replaceAll(',', ''))
      return text.trim() !== '' && Number.isFinite(number) ? number : undefined
    }
    case 'array':
      return text
        .split(/\s*[,;]\s*/)
        .map((part) => part.trim())
        .filter(Boolean)
    case 'object':
    case 'null':
      return undefined
    default:
      return text.trim() || undefined
  }
}

/** Yes or no written on the line that names the property (`Wants refund? Yes`), the nearest after the name first. */
function answerBeside(name: string, text: string): boolean | undefined {
  const words = wordsOf(name).map(escaped)
  if (words.length === 0) return undefined
  const named = new RegExp(`(?<![\\p{L}\\p{N}])${words.join('[\\s_-]*')}(?![\\p{L}\\p{N}])`, 'iu')
  for (const line of text.split(/\r?\n/)) {
    const at = line.search(named)
    if (at < 0) continue
    const after = /(?<![\p{L}\p{N}])(yes|no|true|false)(?![\p{L}\p{N}])/iu.exec(line.slice(at))
    const answer = after ?? /(?<![\p{L}\p{N}])(yes|no|true|false)(?![\p{L}\p{N}])/iu.exec(line.slice(0, at))
    if (answer) return booleanOf(answer[1])
  }
  return undefined
}

/** The fields of the schema's top-level properties that the text gives, labelled as the rules' work. */
export function extractByRules(schema: Record<string, unknown>, text: string): Record<string, unknown> {
  const result: Record<string, unknown> = { _extractor: 'rules' }
  const properties = schema.properties
  if (!properties || typeof properties !== 'object') return result
  const labelled = labelledValues(text)
  for (const [name, definition] of Object.entries(properties as Record<string, unknown>)) {
    if (!definition || typeof definition !== 'object') continue
    const property = definition as PropertySchema
    const label = labelled.get(comparable(name))
    let value = label === undefined ? undefined : valueFor(property, label)
    if (value === undefined && Array.isArray(property.enum)) value = firstNamed(property.enum, text)
    if (value === undefined && typeOf(property) === 'boolean') value = answerBeside(name, text)
    if (value !== undefined) result[name] = value
  }
  return result
}
