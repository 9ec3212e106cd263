-- Searching email by meaning: each message's embedding (subject and new text), kept beside the message, for
-- GET /search/threads in hybrid and vector mode (functions/email/search/).
--
-- Embedding costs a provider call per message, so it is switched on per organisation: the first search by
-- meaning an organisation makes, on a deployment with an embeddings provider, records it here (with the
-- model) and queues a backfill of its existing mail. From then on every message stored for it (inbound, local
-- delivery, sent) queues a job `email.embed_messages` from the trigger below. Organisations that never search
-- by meaning, and every organisation of a deployment without a provider, pay one primary-key lookup per
-- stored message and nothing more: inbound keeps its pace.
create table if not exists agentry.email_vector_orgs (
  org_id uuid primary key references agentry.organisations (id) on delete cascade,
  -- The model queries are embedded with: a change of model embeds the organisation's mail again.
  embedding_model text not null check (length(embedding_model) between 1 and 200),
  -- Vectors written before this time were made for an earlier model (or before the backfill).
  enabled_at timestamptz not null default now()
);
alter table agentry.email_vector_orgs enable row level security;
revoke all on agentry.email_vector_orgs from authenticated;

-- A message's embedding: float32 little-endian, L2-normalised, as knowledge chunks store theirs
-- (20261130000012_knowledge.sql). The thread is read from the message, which may still be threaded later.
create table if not exists agentry.email_message_vectors (
  message_id uuid primary key references agentry.email_messages (id) on delete cascade,
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  inbox_id uuid not null references agentry.email_inboxes (id) on delete cascade,
  embedding bytea not null,
  embedding_model text not null,
  created_at timestamptz not null default now()
);
create index if not exists email_message_vectors_inbox on agentry.email_message_vectors (inbox_id, message_id);
create index if not exists email_message_vectors_org on agentry.email_message_vectors (org_id);

-- Readable under the rules of the messages they belong to: the organisation, messages:read, messages:write or
-- threads:read, and an agent key only its own inboxes' (through agentry.claim_agent_inboxes(), which needs no
-- inboxes:read). Written by the embedding job only, on the service connection.
alter table agentry.email_message_vectors enable row level security;
select agentry.create_tenant_policy('email_message_vectors', 'inbox_id in (select agentry.claim_agent_inboxes())');
select agentry.create_scope_policy('email_message_vectors_read', 'email_message_vectors', 'select',
  array['messages:read', 'messages:write', 'threads:read']);
revoke all on agentry.email_message_vectors from authenticated;
grant select on agentry.email_message_vectors to authenticated;

-- Queues the embedding of a stored message, for organisations that search their mail by meaning.
create or replace function agentry.queue_email_message_embedding() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if exists (select from agentry.email_vector_orgs o where o.org_id = new.org_id) then
      perform agentry.enqueue_job_for(new.org_id, 'email.embed_messages', jsonb_build_object('message_id', new.id));
    end if;
    return null;
  end
  $$;
revoke execute on function agentry.queue_email_message_embedding() from public;

drop trigger if exists email_messages_embedding on agentry.email_messages;
create trigger email_messages_embedding after insert on agentry.email_messages
  for each row execute function agentry.queue_email_message_embedding();

-- Thread search by keyword reads the query's terms as knowledge search does: the alternatives (p_any: `a or
-- "b c"`, phrases kept) and exclusions (p_none) come from the one reader of web-search syntax both use,
-- _core/search/keyword-terms.ts, instead of a second reading here (agentry.any_lexeme_tsquery, which split
-- phrases into words). Otherwise as in 20261130000023_email_threads.sql: the threads of one inbox, or of
-- every inbox on a domain, those whose messages hold every term first, then when fewer than p_limit do,
-- those holding any term and no excluded one; rank is ts_rank_cd as rank / (rank + 1), 0 to 1. It runs as
-- its owner and applies the tenant rules of email_threads itself, so the GIN index on the messages' tsv
-- serves the match.
drop function if exists agentry.rank_email_threads(uuid, uuid, text, int);
drop function if exists agentry.any_lexeme_tsquery(regconfig, text);
create or replace function agentry.rank_email_threads(
  p_inbox uuid, p_domain uuid, p_query text, p_any text, p_none text, p_limit int)
  returns table (thread_id uuid, rank float8, all_terms boolean)
  language plpgsql stable security definer set search_path = ''
  as $$
  #variable_conflict use_column
  declare
    strict_q tsquery := websearch_to_tsquery('english', p_query);
    loose_q tsquery;
    inboxes uuid[];
    found_strictly int;
  begin
    if p_limit < 1 or not ((select agentry.claim_has_scope('threads:read')) or (select agentry.claim_has_scope('threads:write'))) then
      return;
    end if;
    inboxes := array(
      select i.id from agentry.email_inboxes i
      where i.org_id = (select agentry.claim_org_id())
        and (p_inbox is not null or p_domain is not null)
        and (p_inbox is null or i.id = p_inbox)
        and (p_domain is null or i.domain_id = p_domain)
        and ((select agentry.claim_agent_id()) is null or i.agent_id = (select agentry.claim_agent_id())));
    if cardinality(inboxes) = 0 then
      return;
    end if;
    return query
      select m.thread_id, max(ts_rank_cd(m.tsv, strict_q, 32))::float8 as r, true
      from agentry.email_messages m
      where m.tsv @@ strict_q and m.inbox_id = any(inboxes)
      group by m.thread_id
      order by r desc, m.thread_id
      limit p_limit;
    get diagnostics found_strictly = row_count;
    -- One term or none: the strict query already found every thread the loose one would.
    if found_strictly >= p_limit or p_any is null then
      return;
    end if;
    loose_q := websearch_to_tsquery('english', p_any);
    if p_none is not null then
      loose_q := loose_q && !! websearch_to_tsquery('english', p_none);
    end if;
    -- Fewer than p_limit threads matched strictly, so all of them were returned: leaving out every thread
    -- with a strict match leaves out exactly those.
    return query
      select m.thread_id, max(ts_rank_cd(m.tsv, loose_q, 32))::float8 as r, false
      from agentry.email_messages m
      where m.tsv @@ loose_q and m.inbox_id = any(inboxes)
        and not exists (select from agentry.email_messages s where s.thread_id = m.thread_id and s.tsv @@ strict_q)
      group by m.thread_id
      order by r desc, m.thread_id
      limit p_limit - found_strictly;
  end
  $$;
revoke execute on function agentry.rank_email_threads(uuid, uuid, text, text, text, int) from public;
grant execute on function agentry.rank_email_threads(uuid, uuid, text, text, text, int) to authenticated;

-- Each inbox's embedded messages as a version the API checks per search, as knowledge bases have
-- (20261130000014_knowledge_search.sql): the API keeps an inbox's vectors in memory and scores them exactly,
-- and a copy loaded at version v is current as long as the row still says v. Moved once per statement that
-- changes the inbox's vectors.
create table if not exists agentry.email_inbox_vectors (
  inbox_id uuid primary key references agentry.email_inboxes (id) on delete cascade,
  org_id uuid not null,
  version bigint not null default 1,
  vectors bigint not null default 0 check (vectors >= 0)
);
alter table agentry.email_inbox_vectors enable row level security;
select agentry.create_tenant_policy('email_inbox_vectors', 'inbox_id in (select agentry.claim_agent_inboxes())');
select agentry.create_scope_policy('email_inbox_vectors_read', 'email_inbox_vectors', 'select',
  array['messages:read', 'messages:write', 'threads:read']);
revoke all on agentry.email_inbox_vectors from authenticated;
grant select on agentry.email_inbox_vectors to authenticated;

create or replace function agentry.note_email_vectors() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if tg_op = 'INSERT' then
      insert into agentry.email_inbox_vectors as v (inbox_id, org_id, vectors)
      select n.inbox_id, n.org_id, count(*) from new_vectors n
      where exists (select from agentry.email_inboxes i where i.id = n.inbox_id)
      group by n.inbox_id, n.org_id
      on conflict (inbox_id) do update set version = v.version + 1, vectors = v.vectors + excluded.vectors;
    elsif tg_op = 'DELETE' then
      update agentry.email_inbox_vectors v set version = v.version + 1, vectors = greatest(v.vectors - d.gone, 0)
      from (select o.inbox_id, count(*) as gone from old_vectors o group by o.inbox_id) d
      where v.inbox_id = d.inbox_id;
    else
      update agentry.email_inbox_vectors v set version = v.version + 1
      where v.inbox_id in (select n.inbox_id from new_vectors n);
    end if;
    return null;
  end
  $$;
revoke execute on function agentry.note_email_vectors() from public;

drop trigger if exists email_message_vectors_insert on agentry.email_message_vectors;
create trigger email_message_vectors_insert after insert on agentry.email_message_vectors
  referencing new table as new_vectors for each statement execute function agentry.note_email_vectors();
drop trigger if exists email_message_vectors_update on agentry.email_message_vectors;
create trigger email_message_vectors_update after update on agentry.email_message_vectors
  referencing new table as new_vectors old table as old_vectors for each statement execute function agentry.note_email_vectors();
drop trigger if exists email_message_vectors_delete on agentry.email_message_vectors;
create trigger email_message_vectors_delete after delete on agentry.email_message_vectors
  referencing old table as old_vectors for each statement execute function agentry.note_email_vectors();
