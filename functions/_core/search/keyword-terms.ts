// The terms of a keyword query, read as websearch_to_tsquery reads it: words, "quoted phrases", -excluded
// words or phrases, and `or`. The keyword ranking falls back on any of the terms when too few chunks hold
// them all (see sql/20261130000018_keyword_fallback.sql); phrases stay phrases and exclusions stay excluded.

export interface KeywordQuery {
  /** The query as given: the strict match. */
  query: string
  /** Its terms as alternatives (`a or "b c"`); null when it has fewer than two, where nothing would differ. */
  any: string | null
  /** Its excluded terms as alternatives, none of which a fallback match may hold; null when it has none. */
  none: string | null
}

/** Enough alternatives for any question; more only slow the ranking down. */
const maxTerms = 64

export function keywordQueryOf(query: string): KeywordQuery {
  const wanted = new Map<string, string>()
  const excluded = new Map<string, string>()
  const text = query.trim()
  let i = 0
  while (i < text.length) {
    if (/\s/.test(text[i])) {
      i++
      continue
    }
    let negated = false
    while (text[i] === '-') {
      negated = true
      i++
    }
    let term: string
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1)
      const inner = text.slice(i + 1, end === -1 ? text.length : end).trim()
      i = end === -1 ? text.length : end + 1
      term = inner ? `"${inner.replaceAll('"', '')}"` : ''
    } else {
      const start = i
      while (i < text.length && !/\s/.test(text[i]) && text[i] !== '"') i++
      term = text.slice(start, i)
      // `or` between terms is the operator: every term is an alternative here anyway.
      if (!negated && term.toLowerCase() === 'or') continue
    }
    if (!term) continue
    const into = negated ? excluded : wanted
    if (into.size < maxTerms && !into.has(term.toLowerCase())) into.set(term.toLowerCase(), term)
  }
  return {
    query,
    any: wanted.size > 1 ? [...wanted.values()].join(' or ') : null,
    none: excluded.size > 0 ? [...excluded.values()].join(' or ') : null,
  }
}
