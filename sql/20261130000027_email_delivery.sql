-- Delivery monitoring: what happened to each recipient of outbound mail (the relay's answers, local
-- delivery, bounce messages and feedback reports that came back), and the addresses an inbox no longer
-- sends to. Both are written by the sending job and the inbound path on the service connection; a send
-- records `suppressed` as the caller, and an organisation credential with messages:write removes a
-- suppression.

create table if not exists agentry.email_delivery_events (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  inbox_id uuid not null,
  message_id uuid not null,
  recipient text not null check (length(recipient) between 1 and 998),
  event_type text not null check (event_type in ('sent', 'delivered', 'bounced', 'complained', 'failed', 'suppressed')),
  -- What the evidence said: SMTP code and reply, a DSN's status and diagnostic, a feedback report's type.
  detail jsonb not null default '{}',
  -- The clock's time, not the transaction's: events written together keep the order they happened in.
  occurred_at timestamptz not null default clock_timestamp(),
  foreign key (inbox_id, org_id) references agentry.email_inboxes (id, org_id) on delete cascade,
  foreign key (message_id, org_id) references agentry.email_messages (id, org_id) on delete cascade
);
alter table agentry.email_delivery_events alter column occurred_at set default clock_timestamp();
create index if not exists email_delivery_events_inbox_idx on agentry.email_delivery_events (inbox_id, occurred_at desc, id);
create index if not exists email_delivery_events_message_idx on agentry.email_delivery_events (message_id, occurred_at desc, id);
create index if not exists email_delivery_events_org_idx on agentry.email_delivery_events (org_id, occurred_at desc, id);
create index if not exists email_delivery_events_type_idx on agentry.email_delivery_events (inbox_id, event_type, occurred_at desc);

create table if not exists agentry.email_suppressions (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  inbox_id uuid not null,
  address text not null check (address = lower(address) and length(address) between 1 and 998),
  reason text not null check (reason in ('hard_bounce', 'complaint', 'manual')),
  -- The delivery event and the outbound message that put the address here.
  source_event_id uuid references agentry.email_delivery_events (id) on delete set null,
  source_message_id uuid,
  created_at timestamptz not null default now(),
  unique (inbox_id, address),
  foreign key (inbox_id, org_id) references agentry.email_inboxes (id, org_id) on delete cascade,
  foreign key (source_message_id, org_id) references agentry.email_messages (id, org_id) on delete set null (source_message_id)
);
create index if not exists email_suppressions_org_idx on agentry.email_suppressions (org_id, created_at desc, id);
create index if not exists email_suppressions_inbox_idx on agentry.email_suppressions (inbox_id, created_at desc, id);

alter table agentry.email_delivery_events enable row level security;
alter table agentry.email_suppressions enable row level security;

-- An agent key sees the events and suppressions of its own inboxes only.
select agentry.create_tenant_policy(t, 'inbox_id in (select agentry.claim_agent_inboxes())')
from unnest(array['email_delivery_events', 'email_suppressions']) as t;

do $$
declare
  p record;
begin
  for p in
    select * from (values
      -- A send (messages:write) reads the suppressions of its inbox and records whom it left out.
      ('email_delivery_events_read', 'email_delivery_events', 'select', array['messages:read', 'messages:write'], null),
      ('email_delivery_events_insert', 'email_delivery_events', 'insert', array['messages:write'], null),
      ('email_suppressions_read', 'email_suppressions', 'select', array['messages:read', 'messages:write'], null),
      ('email_suppressions_delete', 'email_suppressions', 'delete', array['messages:write'], null)
    ) as v(policy_name, table_name, command, scopes, own_rule)
  loop
    perform agentry.create_scope_policy(p.policy_name, p.table_name, p.command, p.scopes, p.own_rule);
  end loop;
end
$$;

grant select, insert (org_id, inbox_id, message_id, recipient, event_type, detail) on agentry.email_delivery_events to authenticated;
grant select, delete on agentry.email_suppressions to authenticated;
