-- Keyword ranking for questions as well as search terms. websearch_to_tsquery requires every word, so a
-- question asked in plain language rarely matches any passage in full. Chunks matching the query strictly
-- still rank first; when they are fewer than asked for, the rest are the chunks matching any of its terms
-- (p_any: its words and quoted phrases as alternatives, in web search syntax) and none of its excluded ones
-- (p_none), best ts_rank_cd first. p_any is null when the query has a single term, where both would match
-- the same chunks. The caller may read the base or gets nothing: the rules of can_read_knowledge_base, as
-- in 20261130000014_knowledge_search.sql, and for the same reason (the GIN index under RLS).
drop function if exists agentry.rank_knowledge_chunks(uuid, text, int, text, jsonb);

create or replace function agentry.rank_knowledge_chunks(
  p_base uuid, p_query text, p_any text, p_none text, p_limit int, p_namespace text default null, p_metadata jsonb default null
) returns table (id uuid, rank float8, all_terms boolean)
  language plpgsql stable security definer set search_path = ''
  as $$
  #variable_conflict use_column
  declare
    strict_q tsquery := websearch_to_tsquery('english', p_query);
    loose_q tsquery;
    found_strictly int;
  begin
    if p_limit < 1 or not agentry.can_read_knowledge_base(p_base) then
      return;
    end if;
    return query
      select c.id, ts_rank_cd(c.tsv, strict_q)::float8 as r, true
      from agentry.knowledge_chunks c
      where c.tsv @@ strict_q and c.base_id = p_base
        and (p_namespace is null or c.namespace = p_namespace)
        and (p_metadata is null or c.metadata @> p_metadata)
      order by r desc, c.id
      limit p_limit;
    get diagnostics found_strictly = row_count;
    if found_strictly >= p_limit or p_any is null then
      return;
    end if;
    loose_q := websearch_to_tsquery('english', p_any);
    if numnode(loose_q) = 0 then
      return;
    end if;
    if p_none is not null then
      loose_q := loose_q && !! websearch_to_tsquery('english', p_none);
    end if;
    -- Fewer than p_limit strict matches means all of them were returned: excluding what matches strictly
    -- excludes exactly those.
    return query
      select c.id, ts_rank_cd(c.tsv, loose_q)::float8 as r, false
      from agentry.knowledge_chunks c
      where c.tsv @@ loose_q and not (c.tsv @@ strict_q) and c.base_id = p_base
        and (p_namespace is null or c.namespace = p_namespace)
        and (p_metadata is null or c.metadata @> p_metadata)
      order by r desc, c.id
      limit p_limit - found_strictly;
  end
  $$;
revoke execute on function agentry.rank_knowledge_chunks(uuid, text, text, text, int, text, jsonb) from public;
grant execute on function agentry.rank_knowledge_chunks(uuid, text, text, text, int, text, jsonb) to authenticated;
