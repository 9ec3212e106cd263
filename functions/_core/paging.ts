/**
 * A cursor page from rows fetched one past the limit: the extra row only says that more remain. Each row's
 * `position` is what the next page's cursor starts after; it is not part of the answer.
 */
export function pageOf<T extends { position: string }>(
  rows: T[],
  limit: number,
): { data: Omit<T, 'position'>[]; next_cursor: string | null; has_more: boolean } {
  const hasMore = rows.length > limit
  const data = rows.slice(0, limit)
  return {
    data: data.map(({ position: _, ...row }) => row),
    next_cursor: hasMore ? data[data.length - 1].position : null,
    has_more: hasMore,
  }
}
