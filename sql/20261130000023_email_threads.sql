-- Reading email: what threads, messages and thread search need beside the tables of 20261130000020_email.sql.
-- Each function below runs as its owner and applies the tenant rules of those tables itself, for a reason
-- given at each.

-- The inboxes on a domain, within the caller's organisation: listings filtered by domain_id run with keys
-- that read threads or messages and need not hold inboxes:read, so the inboxes' own policy would hide them.
-- Only ids, used to narrow a listing whose rows are still read under their own policies.
create or replace function agentry.email_domain_inboxes(p_domain uuid) returns setof uuid
  language sql stable security definer set search_path = ''
  as $$
    select i.id from agentry.email_inboxes i
    where i.domain_id = p_domain and i.org_id = (select agentry.claim_org_id())
  $$;
revoke execute on function agentry.email_domain_inboxes(uuid) from public;
grant execute on function agentry.email_domain_inboxes(uuid) to authenticated;

-- What a message carries, for whoever may read the message (threads:* or messages:*, within the organisation,
-- an agent key within its inboxes: the rules of email_messages' policies): names, types and sizes only. The
-- content stays behind attachments:read, which a key reading a conversation need not hold.
create or replace function agentry.email_attachment_summaries(p_message uuid)
  returns table (id uuid, filename text, content_type text, size_bytes bigint, created_at timestamptz)
  language sql stable security definer set search_path = ''
  as $$
    select a.id, a.filename, a.content_type, a.size_bytes, a.created_at
    from agentry.email_attachments a
    where a.message_id = p_message
      and exists (
        select from agentry.email_messages m
        where m.id = p_message
          and m.org_id = (select agentry.claim_org_id())
          and ((select agentry.claim_has_scope('threads:read')) or (select agentry.claim_has_scope('threads:write'))
            or (select agentry.claim_has_scope('messages:read')) or (select agentry.claim_has_scope('messages:write')))
          and ((select agentry.claim_agent_id()) is null or m.inbox_id in (
            select i.id from agentry.email_inboxes i where i.agent_id = (select agentry.claim_agent_id()))))
  $$;
revoke execute on function agentry.email_attachment_summaries(uuid) from public;
grant execute on function agentry.email_attachment_summaries(uuid) to authenticated;

-- A query's words as alternatives, already normalised as `config` normalises them; null when it has none.
create or replace function agentry.any_lexeme_tsquery(p_config regconfig, p_text text) returns tsquery
  language sql stable set search_path = ''
  as $$
    select string_agg('''' || replace(replace(v.lexeme, '\', '\\'), '''', '''''') || '''', ' | ')::tsquery
    from unnest(to_tsvector(p_config, coalesce(p_text, ''))) v
  $$;

-- Thread search by keyword: the threads of one inbox, or of every inbox on a domain (both: that inbox if it is
-- on that domain, as the listings read them), whose messages match the query (subject, sender, new text: the
-- messages' tsv), each ranked by its best message. Threads whose messages hold every term
-- (websearch_to_tsquery) come first; when fewer than p_limit do, the rest are threads matching any of the
-- query's words and none of its excluded ones (all_terms false). rank is ts_rank_cd normalised as
-- rank / (rank + 1) (normalisation 32), so 0 to 1.
--
-- It runs as its owner and applies the tenant rules of email_threads itself (the organisation, threads:read
-- or threads:write, an agent key's own inboxes): under RLS PostgreSQL will not use `tsv @@ query` as a GIN
-- index condition, since the operator is not leakproof, and would read every message of the table, as the
-- knowledge search found (20261130000014_knowledge_search.sql).
create or replace function agentry.rank_email_threads(p_inbox uuid, p_domain uuid, p_query text, p_limit int)
  returns table (thread_id uuid, rank float8, all_terms boolean)
  language plpgsql stable security definer set search_path = ''
  as $$
  #variable_conflict use_column
  declare
    negated constant text := '(^|\s)-+("[^"]*"?|\S+)';
    strict_q tsquery := websearch_to_tsquery('english', p_query);
    loose_q tsquery;
    none_q tsquery;
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
    if found_strictly >= p_limit then
      return;
    end if;
    loose_q := agentry.any_lexeme_tsquery('english', regexp_replace(p_query, negated, ' ', 'g'));
    -- One word or none: the strict query already found every thread the loose one would.
    if loose_q is null or numnode(loose_q) < 3 then
      return;
    end if;
    none_q := agentry.any_lexeme_tsquery('english',
      (select string_agg(x[2], ' ') from regexp_matches(p_query, negated, 'g') as x));
    if none_q is not null then
      loose_q := loose_q && !! none_q;
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
revoke execute on function agentry.rank_email_threads(uuid, uuid, text, int) from public;
grant execute on function agentry.rank_email_threads(uuid, uuid, text, int) to authenticated;

-- The inboxes of the calling agent key. The agent rule of the email_threads and email_messages policies
-- (20261130000020_email.sql) read email_inboxes under its own policy, which needs inboxes:read: an agent key
-- holding threads:read or messages:read alone saw none of its threads or messages. Through this function the
-- rule reads the inboxes as their owner, for the caller's own agent and organisation only; the policies are
-- otherwise as they were.
create or replace function agentry.claim_agent_inboxes() returns setof uuid
  language sql stable security definer set search_path = ''
  as $$
    select i.id from agentry.email_inboxes i
    where i.agent_id = (select agentry.claim_agent_id()) and i.org_id = (select agentry.claim_org_id())
  $$;
revoke execute on function agentry.claim_agent_inboxes() from public;
grant execute on function agentry.claim_agent_inboxes() to authenticated;

select agentry.create_tenant_policy(t, 'inbox_id in (select agentry.claim_agent_inboxes())')
from unnest(array['email_threads', 'email_messages']) as t;
