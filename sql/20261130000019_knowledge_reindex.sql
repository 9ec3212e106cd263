-- A base's chunking changed (PATCH /bases/{id} with another chunk_size or chunk_overlap): every item of the
-- base is indexed again with the new settings. Each item's version moves on, it goes back to `queued` with
-- its progress reset, and one knowledge.index_item job per item is enqueued (keyed by the item, as
-- agentry.enqueue_job does, so an item already queued keeps one job, now for the new version): one statement
-- for a whole batch of items, no round trip per item. A base of a few thousand items is queued again in the
-- PATCH's own transaction; a larger one by the knowledge.reindex_base job, a batch at a time, so that neither
-- the request nor any transaction holds a large base's items for long (100,000 items in one statement take
-- tens of seconds).

-- The job walks a base's items in id order.
create index if not exists knowledge_items_base_id_idx on agentry.knowledge_items (base_id, id);

-- The service's side: items of the base with ids after p_after_id, in id order, at most p_limit of them
-- (null: all). Returns how many were queued again and the last one's id.
create or replace function agentry.requeue_knowledge_items(
  p_org uuid, p_base uuid, p_after_id uuid default null, p_limit integer default null)
  returns table (requeued integer, last_id uuid)
  language plpgsql volatile security definer set search_path = ''
  as $$
  begin
    return query
    with picked as (
      select i.id from agentry.knowledge_items i
      where i.base_id = p_base and i.org_id = p_org and (p_after_id is null or i.id > p_after_id)
      order by i.id
      limit p_limit
      for update
    ),
    items as (
      update agentry.knowledge_items i
      set content_version = i.content_version + 1, status = 'queued', chunks_total = 0, chunks_done = 0, error = null
      from picked p
      where i.id = p.id
      returning i.id, i.content_version
    ),
    jobs as (
      insert into agentry.jobs as j (org_id, kind, payload, dedupe_key)
      select p_org, 'knowledge.index_item', jsonb_build_object('item_id', items.id, 'content_version', items.content_version),
        items.id::text
      from items
      on conflict (org_id, kind, dedupe_key) where status = 'queued' and dedupe_key is not null
      do update set payload = excluded.payload, run_at = least(j.run_at, excluded.run_at)
      returning 1
    )
    select (select count(*)::integer from jobs), (select p.id from picked p order by p.id desc limit 1);
    perform pg_notify('agentry_jobs', 'knowledge.index_item');
  end
  $$;

-- The tenant's side, inside the PATCH's transaction: every item of the base at once. Security definer
-- because status, progress and version are the indexing job's, never granted to a tenant; so it checks what
-- the policies would: the caller's organisation, the knowledge:write scope, and for an agent key a base
-- linked to its agent. Returns how many items were queued again.
drop function if exists agentry.requeue_knowledge_base(uuid);
create or replace function agentry.requeue_knowledge_base(p_base uuid) returns integer
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    org uuid := agentry.claim_org_id();
    agent uuid := agentry.claim_agent_id();
  begin
    if org is null or not agentry.claim_has_scope('knowledge:write') then
      raise exception 'Re-indexing a knowledge base needs an organisation and the knowledge:write scope' using errcode = '42501';
    end if;
    if not exists (
      select 1 from agentry.knowledge_bases b
      where b.id = p_base and b.org_id = org
        and (agent is null or exists (
          select 1 from agentry.knowledge_base_agents l where l.base_id = b.id and l.agent_id = agent))) then
      return 0;
    end if;
    return (select r.requeued from agentry.requeue_knowledge_items(org, p_base) r);
  end
  $$;

revoke execute on function agentry.requeue_knowledge_items(uuid, uuid, uuid, integer) from public;
revoke execute on function agentry.requeue_knowledge_base(uuid) from public;
grant execute on function agentry.requeue_knowledge_items(uuid, uuid, uuid, integer) to service_role;
grant execute on function agentry.requeue_knowledge_base(uuid) to authenticated;
