// A statement being compiled: its bound parameters, and the parts of it that PostgreSQL may refuse on hostile
// input (queryErrorFrom in ../errors.ts reads them, so that an error can name the part at fault).
import type { Fault, Suspect } from '../errors.ts'

export interface Statement {
  text: string
  params: (string | null)[]
  /** The parts that can raise an error on the input they were given. */
  suspects?: Suspect[]
}

export class Params {
  readonly values: (string | null)[] = []
  readonly suspects: Suspect[] = []
  /**
   * Every parameter is sent as text and cast in SQL: the driver would otherwise encode a value again for
   * the type it learns (a JSON text bound to jsonb would arrive as a JSON string).
   */
  add(value: string | null, cast: string): string {
    this.values.push(value)
    return cast === 'text' ? `$${this.values.length}::text` : `$${this.values.length}::text::${cast}`
  }

  /** Notes that the part named `where` can raise `fault`'s errors. */
  suspect(fault: Fault, where: string): void {
    this.suspects.push({ fault, where })
  }

  statement(text: string): Statement {
    return { text, params: this.values, suspects: this.suspects }
  }
}
