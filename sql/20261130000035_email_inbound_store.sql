-- One inbound message into one inbox in a single statement: the SMTP ingress pays a round trip to the
-- database per statement, and storing took about ten (lock, duplicate check, thread lookup, thread insert and
-- update, message insert, event). The rules are the ones the ingress applied statement by statement:
-- - a retried delivery of the same Message-ID waits for the first to commit, then finds it (no second copy);
-- - the thread is the one holding a message it refers to (References, In-Reply-To), else a thread of the
--   inbox on the same base subject with one of the same other people whose last message is recent, else a
--   new one; always within the one inbox, so never across inboxes or organisations;
-- - a closed thread, or one waiting for an answer that is no auto-reply, becomes needs_reply;
-- - `message.received` is raised only when an endpoint of the organisation listens for it.
-- An inbox no longer active stores nothing and answers no row. Attachments and delivery reports, rarer, are
-- written by the caller in the same transaction. Service connections only.
create or replace function agentry.store_inbound_message(
  p_inbox_id uuid, p_message jsonb, p_raw bytea, p_at timestamptz, p_subject_match_days integer, p_max_participants integer)
  returns table (message_id uuid, thread_id uuid, created boolean)
  language plpgsql volatile set search_path = ''
  as $$
  declare
    v_inbox record;
    v_at timestamptz := coalesce(p_at, now());
    v_header text := p_message ->> 'message_id';
    v_references text[] := array(select jsonb_array_elements_text(p_message -> 'references'));
    v_people text[] := array(select jsonb_array_elements_text(p_message -> 'participants'));
    v_refers text[];
    v_others text[];
    v_base text := p_message ->> 'base_subject';
    v_auto boolean := (p_message ->> 'is_auto_reply')::boolean;
    v_with_attachments boolean := (p_message ->> 'has_attachments')::boolean;
    v_thread uuid;
    v_id uuid;
  begin
    select i.id, i.org_id, i.agent_id, i.address,
      coalesce(i.extraction_schema -> 'enabled' = 'true'::jsonb, false) as extraction into v_inbox
    from agentry.email_inboxes i where i.id = p_inbox_id and i.status = 'active';
    if not found then
      return;
    end if;
    perform pg_advisory_xact_lock(hashtextextended(p_inbox_id::text || ' ' || v_header, 0));
    select m.id, m.thread_id into v_id, v_thread
    from agentry.email_messages m where m.inbox_id = p_inbox_id and m.message_id_header = v_header;
    if found then
      return query select v_id, v_thread, false;
      return;
    end if;

    v_refers := array(select distinct r from unnest(array_remove(array[p_message ->> 'in_reply_to'], null) || v_references) r);
    if cardinality(v_refers) > 0 then
      select m.thread_id into v_thread from agentry.email_messages m
      where m.inbox_id = p_inbox_id and m.message_id_header = any(v_refers)
      order by m.created_at desc limit 1;
    end if;
    -- The inbox itself is on every thread of its own: only other people count as overlap.
    v_others := array_remove(v_people, v_inbox.address::text);
    if v_thread is null and v_base <> '' and cardinality(v_others) > 0 then
      select t.id into v_thread from agentry.email_threads t
      where t.inbox_id = p_inbox_id and t.base_subject = v_base and t.participants && v_others
        and t.last_message_at > v_at - make_interval(days => p_subject_match_days)
      order by t.last_message_at desc limit 1;
    end if;
    if v_thread is null then
      insert into agentry.email_threads (org_id, inbox_id, subject, base_subject, message_count, participants, created_at, updated_at)
      values (v_inbox.org_id, p_inbox_id, p_message ->> 'subject', v_base, 0, '{}', v_at, v_at)
      returning id into v_thread;
    end if;

    insert into agentry.email_messages (org_id, inbox_id, thread_id, direction, message_id_header, in_reply_to, "references",
      from_address, from_name, to_addresses, cc_addresses, reply_to, subject, text, html, extracted_text, auth, is_auto_reply,
      status, error, size_bytes, raw, sent_at, created_at)
    values (v_inbox.org_id, p_inbox_id, v_thread, 'inbound', v_header, p_message ->> 'in_reply_to', v_references,
      coalesce(p_message ->> 'from_address', ''), p_message ->> 'from_name',
      array(select jsonb_array_elements_text(p_message -> 'to')), array(select jsonb_array_elements_text(p_message -> 'cc')),
      array(select jsonb_array_elements_text(p_message -> 'reply_to')), p_message ->> 'subject', p_message ->> 'text',
      p_message ->> 'html', p_message ->> 'extracted_text', p_message -> 'auth', v_auto, 'received', p_message ->> 'error',
      octet_length(p_raw), p_raw, (p_message ->> 'sent_at')::timestamptz, v_at)
    returning id into v_id;

    update agentry.email_threads t set
      message_count = t.message_count + 1,
      last_message_at = greatest(t.last_message_at, v_at),
      last_direction = 'inbound',
      snippet = p_message ->> 'snippet',
      has_attachments = t.has_attachments or v_with_attachments,
      participants = (select coalesce(array_agg(distinct p), '{}') from unnest(t.participants || v_people) as p)[1:p_max_participants],
      status = case when t.status = 'closed' or (t.status = 'waiting' and not v_auto) then 'needs_reply' else t.status end,
      updated_at = v_at
    where t.id = v_thread;

    if v_inbox.extraction then
      perform agentry.enqueue_job_for(v_inbox.org_id, 'email.extract_message', jsonb_build_object('message_id', v_id));
    end if;
    insert into agentry.events (org_id, agent_id, type, data)
    select v_inbox.org_id, v_inbox.agent_id, 'message.received',
      (p_message -> 'event') || jsonb_build_object('inbox_id', p_inbox_id, 'thread_id', v_thread, 'message_id', v_id)
    -- As agentry.orgs_listening decides, asked of this organisation's endpoints alone.
    where exists (
      select from agentry.webhook_endpoints ep
      where ep.org_id = v_inbox.org_id and ep.enabled and agentry.event_matches(ep.events, 'message.received'));

    return query select v_id, v_thread, true;
  end
  $$;
revoke execute on function agentry.store_inbound_message(uuid, jsonb, bytea, timestamptz, integer, integer) from public;
