-- A base's chunking changed (PATCH /bases/{id} with another chunk_size or chunk_overlap): every item of the
-- base is indexed again with the new settings. In the tenant transaction that changes the base, each item's
-- version moves on and it goes back to `queued` with its progress reset, and one knowledge.index_item job
-- per item is enqueued (keyed by the item, as agentry.enqueue_job does, so an item already queued keeps one
-- job, now for the new version). One statement for the whole base: no round trip per item.
--
-- Security definer because status, progress and version are the indexing job's, never granted to a tenant;
-- so the function itself checks what the policies would: the caller's organisation, the knowledge:write
-- scope, and for an agent key a base linked to its agent. Returns how many items were queued again.
create or replace function agentry.requeue_knowledge_base(p_base uuid) returns integer
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    org uuid := agentry.claim_org_id();
    agent uuid := agentry.claim_agent_id();
    requeued integer;
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

    with items as (
      update agentry.knowledge_items i
      set content_version = i.content_version + 1, status = 'queued', chunks_total = 0, chunks_done = 0, error = null
      where i.base_id = p_base and i.org_id = org
      returning i.id, i.content_version
    ),
    jobs as (
      insert into agentry.jobs as j (org_id, kind, payload, dedupe_key)
      select org, 'knowledge.index_item', jsonb_build_object('item_id', items.id, 'content_version', items.content_version),
        items.id::text
      from items
      on conflict (org_id, kind, dedupe_key) where status = 'queued' and dedupe_key is not null
      do update set payload = excluded.payload, run_at = least(j.run_at, excluded.run_at)
      returning 1
    )
    select count(*)::integer into requeued from jobs;

    if requeued > 0 then
      perform pg_notify('agentry_jobs', 'knowledge.index_item');
    end if;
    return requeued;
  end
  $$;

revoke execute on function agentry.requeue_knowledge_base(uuid) from public;
grant execute on function agentry.requeue_knowledge_base(uuid) to authenticated;
