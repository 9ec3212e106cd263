-- Issue 19, drafts a human approves and sends scheduled for later.
--
-- A draft holds what a send takes, until someone sends it. An inbox that requires approval turns an agent
-- key's send into a `pending_approval` draft: only an organisation credential that may approve sends it.
-- A send (or a draft) with `send_at` stores its message as `scheduled`, with its delivery job due then:
-- the job queue is the one place that waits, so a restart loses nothing.

alter table agentry.email_inboxes add column if not exists requires_approval boolean not null default false;
grant insert (requires_approval), update (requires_approval) on agentry.email_inboxes to authenticated;

-- An agent key may change its own inbox, but never whether that inbox holds its sends for approval: the
-- API refuses it with a clear message, and this holds for every other way in (the PostgREST surface).
create or replace function agentry.email_inbox_approval_guard() returns trigger
  language plpgsql set search_path = ''
  as $$
  begin
    if (select agentry.claim_agent_id()) is not null
       and new.requires_approval is distinct from (case when tg_op = 'INSERT' then false else old.requires_approval end) then
      raise exception 'Only an organisation credential may change requires_approval' using errcode = '42501';
    end if;
    return new;
  end
  $$;
drop trigger if exists email_inbox_approval_guard on agentry.email_inboxes;
create trigger email_inbox_approval_guard before insert or update of requires_approval on agentry.email_inboxes
  for each row execute function agentry.email_inbox_approval_guard();

alter table agentry.email_messages add column if not exists send_at timestamptz;
alter table agentry.email_messages drop constraint if exists email_messages_status_check;
alter table agentry.email_messages add constraint email_messages_status_check
  check (status in ('queued', 'scheduled', 'cancelled', 'sending', 'sent', 'delivered', 'outboxed', 'failed', 'received'));
grant insert (send_at) on agentry.email_messages to authenticated;
create index if not exists email_messages_scheduled_idx on agentry.email_messages (org_id, send_at) where status = 'scheduled';

create table if not exists agentry.email_drafts (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  inbox_id uuid not null,
  thread_id uuid,
  status text not null default 'draft' check (status in ('draft', 'pending_approval', 'sent')),
  -- The fields of a send as given: mailboxes with their display names.
  to_addresses text[] not null default '{}',
  cc_addresses text[] not null default '{}',
  bcc_addresses text[] not null default '{}',
  reply_to text[] not null default '{}',
  from_address text,
  subject text not null default '',
  text text,
  html text,
  attachments uuid[] not null default '{}',
  send_at timestamptz,
  -- Who wrote it (an agent key's agent, the key or the user) and, once sent, who sent it and as which message.
  agent_id uuid,
  key_id uuid,
  user_id uuid,
  sent_by_key_id uuid,
  sent_by_user_id uuid,
  message_id uuid,
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, org_id),
  foreign key (inbox_id, org_id) references agentry.email_inboxes (id, org_id) on delete cascade,
  foreign key (thread_id, org_id) references agentry.email_threads (id, org_id) on delete cascade
);
create index if not exists email_drafts_inbox_idx on agentry.email_drafts (org_id, inbox_id, created_at);
create index if not exists email_drafts_status_idx on agentry.email_drafts (org_id, status, created_at);

alter table agentry.email_drafts enable row level security;
-- An agent key reaches the drafts of its own inboxes, read as their owner (20261130000023_email_threads.sql).
select agentry.create_tenant_policy('email_drafts', 'inbox_id in (select agentry.claim_agent_inboxes())');
-- A send (messages:write) may write the draft an approval inbox makes of it, and send a draft.
select agentry.create_scope_policy('email_drafts_read', 'email_drafts', 'select', array['drafts:read', 'drafts:write', 'messages:write']);
select agentry.create_scope_policy('email_drafts_insert', 'email_drafts', 'insert', array['drafts:write', 'messages:write']);
select agentry.create_scope_policy('email_drafts_update', 'email_drafts', 'update', array['drafts:write', 'messages:write']);
select agentry.create_scope_policy('email_drafts_delete', 'email_drafts', 'delete', array['drafts:write']);

grant select, delete,
  insert (org_id, inbox_id, thread_id, status, to_addresses, cc_addresses, bcc_addresses, reply_to, from_address, subject, text,
    html, attachments, send_at, agent_id, key_id, user_id)
  on agentry.email_drafts to authenticated;
grant update (thread_id, status, to_addresses, cc_addresses, bcc_addresses, reply_to, from_address, subject, text, html,
  attachments, send_at, sent_by_key_id, sent_by_user_id, message_id, sent_at, updated_at)
  on agentry.email_drafts to authenticated;

-- draft.created and draft.sent, raised in the caller's transaction for its own draft (RLS finds it), with
-- the inbox's agent so that an agent's stream and webhooks hear of its own drafts only.
create or replace function agentry.raise_draft_event(p_draft_id uuid, p_type text, p_data jsonb) returns void
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    org uuid := agentry.claim_org_id();
  begin
    if p_type not in ('draft.created', 'draft.sent') then
      raise exception 'raise_draft_event: unknown type %', p_type;
    end if;
    insert into agentry.events (org_id, agent_id, type, data)
    select d.org_id, i.agent_id, p_type, p_data
    from agentry.email_drafts d join agentry.email_inboxes i on i.id = d.inbox_id and i.org_id = d.org_id
    where d.id = p_draft_id and d.org_id = org and org in (select agentry.orgs_listening(p_type));
  end
  $$;
revoke execute on function agentry.raise_draft_event(uuid, text, jsonb) from public;
grant execute on function agentry.raise_draft_event(uuid, text, jsonb) to authenticated;

-- Whether the caller's send from this inbox waits for approval: an agent key that sends (messages:write)
-- may not read its inbox's settings (inboxes:read), but this one decides what its send does.
create or replace function agentry.email_inbox_requires_approval(p_inbox_id uuid) returns boolean
  language sql stable security definer set search_path = ''
  as $$
    select coalesce((select i.requires_approval from agentry.email_inboxes i
                     where i.id = p_inbox_id and i.org_id = agentry.claim_org_id()), false)
  $$;
revoke execute on function agentry.email_inbox_requires_approval(uuid) from public;
grant execute on function agentry.email_inbox_requires_approval(uuid) to authenticated;
