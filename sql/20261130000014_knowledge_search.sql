-- Knowledge search: what vector search needs beside the knowledge tables.
--
-- Where PostgreSQL has no pgvector (the embedded server of tests and `npm start`, Debian's packages), the API
-- keeps each base's vectors in memory and scores them exactly. It asks one indexed row per query whether its
-- copy is still current: `version` moves with every statement that changes the base's chunks, so a copy
-- loaded at version v is exact as long as the row still says v. Where pgvector exists (Supabase), chunks also
-- carry their vector in a `vector` column with HNSW indexes, and the API searches there instead.

create table if not exists agentry.knowledge_base_vectors (
  base_id uuid primary key,
  org_id uuid not null,
  version bigint not null default 1,
  -- Chunks of the base holding an embedding; 0 means the base is searched by keyword only.
  vectors bigint not null default 0 check (vectors >= 0),
  foreign key (base_id, org_id) references agentry.knowledge_bases (id, org_id) on delete cascade
);

alter table agentry.knowledge_base_vectors enable row level security;
-- Read with the base it describes, and only by whoever may read that base's chunks; written only by the
-- trigger below (a security-definer function), whoever changed the chunks.
drop policy if exists knowledge_base_vectors_read on agentry.knowledge_base_vectors;
create policy knowledge_base_vectors_read on agentry.knowledge_base_vectors for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_has_scope('knowledge:read')) or (select agentry.claim_has_scope('knowledge:write')))
    and ((select agentry.claim_agent_id()) is null or base_id in (
      select l.base_id from agentry.knowledge_base_agents l where l.agent_id = (select agentry.claim_agent_id())))
  );
grant select on agentry.knowledge_base_vectors to authenticated;

-- Statement-level with transition tables: an indexing job replacing an item's hundred chunks moves the
-- version once, not a hundred times. Changes made while the base itself is being deleted are skipped (its
-- row goes with it).
create or replace function agentry.note_knowledge_vectors() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if tg_op = 'INSERT' then
      insert into agentry.knowledge_base_vectors as v (base_id, org_id, vectors)
      select c.base_id, c.org_id, count(c.embedding) from new_chunks c
      where exists (select from agentry.knowledge_bases b where b.id = c.base_id)
      group by c.base_id, c.org_id
      on conflict (base_id) do update set version = v.version + 1, vectors = v.vectors + excluded.vectors;
    elsif tg_op = 'DELETE' then
      update agentry.knowledge_base_vectors v set version = v.version + 1, vectors = greatest(v.vectors - d.gone, 0)
      from (select c.base_id, count(c.embedding) as gone from old_chunks c group by c.base_id) d
      where v.base_id = d.base_id;
    else
      update agentry.knowledge_base_vectors v set version = v.version + 1, vectors = greatest(v.vectors + d.delta, 0)
      from (
        select base_id, sum(n) as delta from (
          select c.base_id, count(c.embedding) as n from new_chunks c group by c.base_id
          union all
          select c.base_id, -count(c.embedding) from old_chunks c group by c.base_id
        ) changes group by base_id
      ) d
      where v.base_id = d.base_id;
    end if;
    return null;
  end
  $$;
revoke execute on function agentry.note_knowledge_vectors() from public;

drop trigger if exists knowledge_chunks_vectors_insert on agentry.knowledge_chunks;
create trigger knowledge_chunks_vectors_insert after insert on agentry.knowledge_chunks
  referencing new table as new_chunks for each statement execute function agentry.note_knowledge_vectors();
drop trigger if exists knowledge_chunks_vectors_update on agentry.knowledge_chunks;
create trigger knowledge_chunks_vectors_update after update on agentry.knowledge_chunks
  referencing new table as new_chunks old table as old_chunks for each statement execute function agentry.note_knowledge_vectors();
drop trigger if exists knowledge_chunks_vectors_delete on agentry.knowledge_chunks;
create trigger knowledge_chunks_vectors_delete after delete on agentry.knowledge_chunks
  referencing old table as old_chunks for each statement execute function agentry.note_knowledge_vectors();

-- Bases with chunks from before this file (re-runs keep their counts).
insert into agentry.knowledge_base_vectors (base_id, org_id, vectors)
select c.base_id, c.org_id, count(c.embedding) from agentry.knowledge_chunks c group by c.base_id, c.org_id
on conflict (base_id) do nothing;

-- Filters a search may carry: a namespace, and metadata by containment.
create index if not exists knowledge_chunks_namespace_idx on agentry.knowledge_chunks (base_id, namespace);

-- Whether the caller may read a base's chunks: the rules of the knowledge_chunks policies in
-- 20261130000012_knowledge.sql (the organisation, a knowledge scope, an agent key's links), for the search
-- functions below, which run as their owner so that PostgreSQL may use the indexes RLS would rule out.
create or replace function agentry.can_read_knowledge_base(p_base uuid) returns boolean
  language sql stable security definer set search_path = ''
  as $$
    select exists (
      select from agentry.knowledge_bases b
      where b.id = p_base
        and b.org_id = (select agentry.claim_org_id())
        and ((select agentry.claim_has_scope('knowledge:read')) or (select agentry.claim_has_scope('knowledge:write')))
        and ((select agentry.claim_agent_id()) is null or b.id in (
          select l.base_id from agentry.knowledge_base_agents l where l.agent_id = (select agentry.claim_agent_id()))))
  $$;
revoke execute on function agentry.can_read_knowledge_base(uuid) from public;
grant execute on function agentry.can_read_knowledge_base(uuid) to authenticated;

-- Keyword ranking, as a security-definer function that applies the tenant rules of knowledge_chunks itself
-- (can_read_knowledge_base): under RLS, PostgreSQL
-- will not use `tsv @@ query` as a GIN index condition, since the operator is not leakproof, and reads every
-- chunk of the table instead (455 ms against 1.7 ms bare, at 100k chunks).
create or replace function agentry.rank_knowledge_chunks(
  p_base uuid, p_query text, p_limit int, p_namespace text default null, p_metadata jsonb default null
) returns table (id uuid, rank float8)
  language sql stable security definer set search_path = ''
  as $$
    select c.id, ts_rank_cd(c.tsv, q)::float8 as rank
    from agentry.knowledge_chunks c, websearch_to_tsquery('english', p_query) q
    where c.tsv @@ q
      and c.base_id = p_base
      and (select agentry.can_read_knowledge_base(p_base))
      and (p_namespace is null or c.namespace = p_namespace)
      and (p_metadata is null or c.metadata @> p_metadata)
    order by rank desc, c.id
    limit p_limit
  $$;
revoke execute on function agentry.rank_knowledge_chunks(uuid, text, int, text, jsonb) from public;
grant execute on function agentry.rank_knowledge_chunks(uuid, text, int, text, jsonb) to authenticated;

-- A stored embedding (float32 little-endian) as real[], decoded bit by bit: each value is exactly the float
-- the bytes hold, so the pgvector column scores the same vectors as the in-memory search.
create or replace function agentry.float4_array_of(b bytea) returns real[]
  language sql immutable strict parallel safe set search_path = ''
  as $$
    select array_agg(
      (case when (w >> 31) = 1 then -1.0::float8 else 1.0::float8 end
       * case when ((w >> 23) & 255) = 0 then (w & 8388607)::float8 * 2.0::float8 ^ (-149)
              else (1.0::float8 + (w & 8388607)::float8 / 8388608.0::float8) * 2.0::float8 ^ (((w >> 23) & 255) - 127)::float8 end
      )::real order by i)
    from (
      select i, (get_byte(b, 4 * i)::bigint
                 | (get_byte(b, 4 * i + 1)::bigint << 8)
                 | (get_byte(b, 4 * i + 2)::bigint << 16)
                 | (get_byte(b, 4 * i + 3)::bigint << 24)) as w
      from generate_series(0, length(b) / 4 - 1) as i
    ) words
  $$;

-- pgvector:begin (the tests run this block on PGlite, which ships the extension)
do $pgvector$
declare
  ext text;
  dims int;
begin
  if not exists (select from pg_available_extensions where name = 'vector') then
    return;
  end if;
  if not exists (select from pg_extension where extname = 'vector') then
    if exists (select from pg_namespace where nspname = 'extensions') then
      create extension vector with schema extensions;
    else
      create extension vector;
    end if;
  end if;
  ext := (select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'vector');

  -- The vector of each chunk, kept from its embedding by a trigger; untyped, so bases of any dimension share
  -- the column, and indexed per dimension through a cast.
  execute format('alter table agentry.knowledge_chunks add column if not exists embedding_vec %I.vector', ext);
  execute format($f$
    create or replace function agentry.set_knowledge_chunk_vector() returns trigger
      language plpgsql set search_path = ''
      as $body$
      begin
        new.embedding_vec := case when new.embedding is null then null
                                  else agentry.float4_array_of(new.embedding)::%1$I.vector end;
        return new;
      end
      $body$
  $f$, ext);
  drop trigger if exists knowledge_chunks_vector on agentry.knowledge_chunks;
  create trigger knowledge_chunks_vector before insert or update of embedding on agentry.knowledge_chunks
    for each row execute function agentry.set_knowledge_chunk_vector();
  update agentry.knowledge_chunks set embedding = embedding where embedding is not null and embedding_vec is null;

  -- HNSW needs a fixed dimension: one partial index per common embedding size (pgvector indexes up to 2000).
  foreach dims in array array[384, 512, 768, 1024, 1536] loop
    execute format(
      'create index if not exists %I on agentry.knowledge_chunks using hnsw ((embedding_vec::%I.vector(%s)) %I.vector_cosine_ops) '
      'where %I.vector_dims(embedding_vec) = %s',
      'knowledge_chunks_vec_' || dims, ext, dims, ext, ext, dims);
  end loop;

  -- The nearest chunks of a base to a query vector, by cosine similarity, for a caller who may read the base
  -- (security definer, as rank_knowledge_chunks: under RLS neither `<=>` nor vector_dims is leakproof, and
  -- the partial HNSW indexes could not be used). The ORDER BY repeats the index expression so the planner
  -- can use the HNSW index; iterative scans (pgvector 0.8) keep filtered searches from coming back short.
  execute format($f$
    create or replace function agentry.nearest_knowledge_chunks(
      p_base uuid, p_query real[], p_limit int, p_namespace text default null, p_metadata jsonb default null
    ) returns table (id uuid, similarity float8)
      language plpgsql stable security definer set search_path = ''
      as $body$
      declare
        d int := cardinality(p_query);
      begin
        if not agentry.can_read_knowledge_base(p_base) then
          return;
        end if;
        begin
          perform set_config('hnsw.iterative_scan', 'strict_order', true);
        exception when others then null;
        end;
        perform set_config('hnsw.ef_search', greatest(40, least(p_limit * 2, 1000))::text, true);
        return query execute format(
          'select c.id, 1 - (c.embedding_vec::%1$I.vector(%%1$s) OPERATOR(%1$I.<=>) $1::%1$I.vector(%%1$s))::float8 '
          'from agentry.knowledge_chunks c '
          'where c.base_id = $2 and %1$I.vector_dims(c.embedding_vec) = %%1$s '
          'and ($3::text is null or c.namespace = $3) and ($4::jsonb is null or c.metadata @> $4) '
          'order by c.embedding_vec::%1$I.vector(%%1$s) OPERATOR(%1$I.<=>) $1::%1$I.vector(%%1$s), c.id limit $5', d)
          using p_query, p_base, p_namespace, p_metadata, p_limit;
      end
      $body$
  $f$, ext);
  revoke execute on function agentry.nearest_knowledge_chunks(uuid, real[], int, text, jsonb) from public;
  grant execute on function agentry.nearest_knowledge_chunks(uuid, real[], int, text, jsonb) to authenticated;
  execute format($f$
    create or replace function agentry.knowledge_chunk_similarities(p_ids uuid[], p_query real[])
      returns table (id uuid, similarity float8)
      language sql stable security definer set search_path = ''
      as $body$
        select c.id, 1 - (c.embedding_vec OPERATOR(%1$I.<=>) p_query::%1$I.vector)::float8
        from agentry.knowledge_chunks c
        where c.id = any(p_ids) and %1$I.vector_dims(c.embedding_vec) = cardinality(p_query)
          and agentry.can_read_knowledge_base(c.base_id)
      $body$
  $f$, ext);
  revoke execute on function agentry.knowledge_chunk_similarities(uuid[], real[]) from public;
  grant execute on function agentry.knowledge_chunk_similarities(uuid[], real[]) to authenticated;
end
$pgvector$;
-- pgvector:end
