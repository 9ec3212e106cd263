// A forward's subject: "Fwd: " once before the original's words, whatever Re:/Fwd: prefixes it carried.
import { strippedSubject } from '../inbound/base-subject.ts'

export function forwardSubject(subject: string | null): string {
  const base = strippedSubject(subject ?? '')
  return base ? `Fwd: ${base}` : 'Fwd:'
}
