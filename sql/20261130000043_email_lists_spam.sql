-- Allow and block lists of senders, per inbox and per organisation, and spam verdicts on inbound mail.
-- An entry is an address (ann@example.com) or a domain (example.com, which covers its subdomains too).
-- Inbound screening and the send-time check read the lists on the connection they already hold: the
-- ingress as the service, a send as the caller (an agent key sees its own inboxes' lists and the
-- organisation's).

create table if not exists agentry.email_sender_lists (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  -- Null: the organisation's list, applied to every inbox.
  inbox_id uuid,
  list text not null check (list in ('allow', 'block')),
  entry text not null check (entry = lower(entry) and length(entry) between 1 and 320 and entry !~ '\s'),
  kind text generated always as (case when position('@' in entry) > 0 then 'address' else 'domain' end) stored,
  created_at timestamptz not null default now(),
  unique (id, org_id),
  foreign key (inbox_id, org_id) references agentry.email_inboxes (id, org_id) on delete cascade
);
create unique index if not exists email_sender_lists_inbox_entry_idx on agentry.email_sender_lists (inbox_id, list, entry)
  where inbox_id is not null;
create unique index if not exists email_sender_lists_org_entry_idx on agentry.email_sender_lists (org_id, list, entry)
  where inbox_id is null;
create index if not exists email_sender_lists_lookup_idx on agentry.email_sender_lists (org_id, entry);
create index if not exists email_sender_lists_listing_idx on agentry.email_sender_lists (org_id, list, created_at desc, id);

alter table agentry.email_sender_lists enable row level security;
select agentry.create_tenant_policy('email_sender_lists', 'inbox_id is null or inbox_id in (select agentry.claim_agent_inboxes())');

do $$
declare
  p record;
  org_credential text := '(select agentry.claim_agent_id()) is null';
begin
  for p in
    select * from (values
      -- A send (messages:write) reads the lists to refuse blocked recipients.
      ('email_sender_lists_read', 'email_sender_lists', 'select', array['inboxes:read', 'inboxes:write', 'messages:write'], null),
      -- The organisation's lists are changed by organisation credentials only.
      ('email_sender_lists_insert', 'email_sender_lists', 'insert', array['inboxes:write'],
        'inbox_id is not null or ' || org_credential),
      ('email_sender_lists_delete', 'email_sender_lists', 'delete', array['inboxes:write'],
        'inbox_id is not null or ' || org_credential)
    ) as v(policy_name, table_name, command, scopes, own_rule)
  loop
    perform agentry.create_scope_policy(p.policy_name, p.table_name, p.command, p.scopes, p.own_rule);
  end loop;
end
$$;
grant select, delete, insert (org_id, inbox_id, list, entry) on agentry.email_sender_lists to authenticated;

-- What an inbox does with mail from a blocked sender (or, in allow-list mode, from anyone not listed):
-- `refuse` answers 5xx at SMTP time and stores nothing; `flag` stores it with the `blocked` label.
alter table agentry.email_inboxes
  add column if not exists blocked_senders text not null default 'refuse' check (blocked_senders in ('refuse', 'flag')),
  add column if not exists allow_list_only boolean not null default false,
  -- A message whose spam score reaches this gets the `spam` label (and its thread the `spam` tag).
  add column if not exists spam_threshold numeric(4, 1) not null default 5 check (spam_threshold between 0 and 100);
grant update (blocked_senders, allow_list_only, spam_threshold) on agentry.email_inboxes to authenticated;

alter table agentry.email_messages
  -- { score, verdict, reasons: [{ signal, weight, detail }] } of inbound mail.
  add column if not exists spam jsonb,
  add column if not exists labels text[] not null default '{}';
create index if not exists email_messages_labels_idx on agentry.email_messages using gin (labels);

-- The spam verdict and the labels stored with the message (the function otherwise as in
-- 20261130000039_event_stream.sql).
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
    v_labels text[] := array(select jsonb_array_elements_text(coalesce(p_message -> 'labels', '[]')));
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
      status, error, size_bytes, raw, sent_at, created_at, spam, labels)
    values (v_inbox.org_id, p_inbox_id, v_thread, 'inbound', v_header, p_message ->> 'in_reply_to', v_references,
      coalesce(p_message ->> 'from_address', ''), p_message ->> 'from_name',
      array(select jsonb_array_elements_text(p_message -> 'to')), array(select jsonb_array_elements_text(p_message -> 'cc')),
      array(select jsonb_array_elements_text(p_message -> 'reply_to')), p_message ->> 'subject', p_message ->> 'text',
      p_message ->> 'html', p_message ->> 'extracted_text', p_message -> 'auth', v_auto, 'received', p_message ->> 'error',
      octet_length(p_raw), p_raw, (p_message ->> 'sent_at')::timestamptz, v_at, p_message -> 'spam', v_labels)
    returning id into v_id;

    update agentry.email_threads t set
      message_count = t.message_count + 1,
      last_message_at = greatest(t.last_message_at, v_at),
      last_direction = 'inbound',
      snippet = p_message ->> 'snippet',
      has_attachments = t.has_attachments or v_with_attachments,
      participants = (select coalesce(array_agg(distinct p), '{}') from unnest(t.participants || v_people) as p)[1:p_max_participants],
      tags = t.tags || array(select l from unnest(v_labels) as l where l <> all(t.tags)),
      status = case when t.status = 'closed' or (t.status = 'waiting' and not v_auto) then 'needs_reply' else t.status end,
      updated_at = v_at
    where t.id = v_thread;

    if v_inbox.extraction then
      perform agentry.enqueue_job_for(v_inbox.org_id, 'email.extract_message', jsonb_build_object('message_id', v_id));
    end if;
    insert into agentry.events (org_id, agent_id, type, data)
    select v_inbox.org_id, v_inbox.agent_id, 'message.received',
      (p_message -> 'event') || jsonb_build_object('inbox_id', p_inbox_id, 'thread_id', v_thread, 'message_id', v_id)
    -- As agentry.orgs_listening decides, asked of this organisation alone.
    where agentry.org_listens(v_inbox.org_id, 'message.received');

    return query select v_id, v_thread, true;
  end
  $$;
revoke execute on function agentry.store_inbound_message(uuid, jsonb, bytea, timestamptz, integer, integer) from public;
