-- Email: custom domains, inboxes (on a custom domain or on the shared one), threads, messages and
-- attachments. Inbound mail and sending run as the service connection and set org_id themselves; tenants
-- reach these tables through the API under the policies at the end of this file.
--
-- Every table carries org_id and reaches its parent through a composite foreign key (id, org_id), so a row
-- can only ever point at rows of its own organisation.

-- What a plan allows for email: attachment storage, and how much mail it may send.
alter table agentry.plans
  add column if not exists max_attachment_bytes bigint not null default 104857600 check (max_attachment_bytes > 0),
  add column if not exists max_emails_per_hour integer not null default 100 check (max_emails_per_hour > 0),
  add column if not exists max_emails_per_day integer not null default 1000 check (max_emails_per_day > 0);
update agentry.plans set max_attachment_bytes = 104857600, max_emails_per_hour = 100, max_emails_per_day = 1000
  where id = 'free';
update agentry.plans set max_attachment_bytes = 10737418240, max_emails_per_hour = 1000, max_emails_per_day = 10000
  where id = 'pro';
update agentry.plans set max_attachment_bytes = 107374182400, max_emails_per_hour = 10000, max_emails_per_day = 100000
  where id = 'enterprise';
update agentry.plans set max_attachment_bytes = 1073741824, max_emails_per_hour = 1000, max_emails_per_day = 10000
  where id = 'development';

create table if not exists agentry.email_domains (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  -- A lower-case fully qualified domain name.
  name text not null check (
    length(name) <= 253 and name ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$'),
  status text not null default 'pending' check (status in ('pending', 'verified', 'failed')),
  dkim_selector text not null check (dkim_selector ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  -- PEM (PKCS#8). Read only by the sending job as the service connection: the column grants below leave it out.
  dkim_private_key text not null,
  -- Base64 SPKI, as published in the DKIM TXT record.
  dkim_public_key text not null,
  -- The last verification, per record: { mx: { status, found }, spf: …, dkim: …, dmarc: … }.
  checks jsonb not null default '{}' check (jsonb_typeof(checks) = 'object'),
  verified_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, org_id),
  unique (org_id, name)
);
-- A name verified by one organisation cannot be verified by another: proving DNS control is first come.
create unique index if not exists email_domains_verified_name_idx on agentry.email_domains (name) where status = 'verified';
create index if not exists email_domains_listing_idx on agentry.email_domains (org_id, created_at, id);
drop trigger if exists email_domains_touch on agentry.email_domains;
create trigger email_domains_touch before update on agentry.email_domains
  for each row execute function agentry.touch_updated_at();

create table if not exists agentry.email_inboxes (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  -- Null for an inbox on the shared domain (EMAIL_SHARED_DOMAIN), which is configuration, not a row.
  domain_id uuid,
  domain text not null check (length(domain) between 1 and 253),
  local_part text not null check (local_part ~ '^[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?$'),
  address text generated always as (local_part || '@' || domain) stored,
  name text check (length(name) <= 200),
  agent_id uuid,
  status text not null default 'active' check (status in ('active', 'disabled')),
  -- An ordinary webhook endpoint filtered by this inbox, made from the inbox's `webhook` setting.
  webhook_endpoint_id uuid references agentry.webhook_endpoints (id) on delete set null,
  -- { name, description, schema, enabled }: applied to every inbound message when enabled.
  extraction_schema jsonb check (extraction_schema is null or jsonb_typeof(extraction_schema) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, org_id),
  foreign key (domain_id, org_id) references agentry.email_domains (id, org_id) on delete cascade,
  foreign key (agent_id, org_id) references agentry.agents (id, org_id) on delete set null (agent_id)
);
-- Addresses are unique across organisations: mail to one address reaches one inbox.
create unique index if not exists email_inboxes_address_idx on agentry.email_inboxes (address);
create index if not exists email_inboxes_listing_idx on agentry.email_inboxes (org_id, created_at, id);
create index if not exists email_inboxes_domain_idx on agentry.email_inboxes (domain_id, created_at, id);
create index if not exists email_inboxes_agent_idx on agentry.email_inboxes (agent_id);
drop trigger if exists email_inboxes_touch on agentry.email_inboxes;
create trigger email_inboxes_touch before update on agentry.email_inboxes
  for each row execute function agentry.touch_updated_at();

create table if not exists agentry.email_threads (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  inbox_id uuid not null,
  subject text not null default '',
  -- The subject without Re:/Fwd:/[tags], lower-cased, whitespace collapsed: what subject threading matches.
  base_subject text not null default '',
  status text not null default 'open' check (status in ('open', 'needs_reply', 'waiting', 'closed')),
  tags text[] not null default '{}',
  assigned_to text check (length(assigned_to) <= 200),
  message_count integer not null default 0 check (message_count >= 0),
  last_message_at timestamptz not null default now(),
  last_direction text check (last_direction in ('inbound', 'outbound')),
  snippet text not null default '' check (length(snippet) <= 200),
  has_attachments boolean not null default false,
  -- Lower-cased addresses.
  participants text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, org_id),
  foreign key (inbox_id, org_id) references agentry.email_inboxes (id, org_id) on delete cascade
);
create index if not exists email_threads_inbox_idx on agentry.email_threads (inbox_id, last_message_at desc, id);
create index if not exists email_threads_subject_idx on agentry.email_threads (inbox_id, base_subject);
drop trigger if exists email_threads_touch on agentry.email_threads;
create trigger email_threads_touch before update on agentry.email_threads
  for each row execute function agentry.touch_updated_at();

create table if not exists agentry.email_messages (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  inbox_id uuid not null,
  thread_id uuid not null,
  direction text not null check (direction in ('inbound', 'outbound')),
  -- RFC 5322 Message-ID without the angle brackets.
  message_id_header text not null check (length(message_id_header) between 1 and 998),
  in_reply_to text,
  "references" text[] not null default '{}',
  from_address text not null default '',
  from_name text,
  to_addresses text[] not null default '{}',
  cc_addresses text[] not null default '{}',
  -- Outbound only: inbound mail never shows its Bcc.
  bcc_addresses text[] not null default '{}',
  reply_to text[] not null default '{}',
  subject text not null default '',
  text text,
  html text,
  -- The new content without quoted history or signature.
  extracted_text text,
  extracted_data jsonb,
  extraction_error text,
  -- { spf, dkim, dmarc } verdicts of inbound mail.
  auth jsonb,
  -- RFC 3834 auto-replies, marked so agents can avoid mail loops.
  is_auto_reply boolean not null default false,
  status text not null check (status in ('queued', 'sending', 'sent', 'delivered', 'outboxed', 'failed', 'received')),
  error text,
  size_bytes integer not null default 0 check (size_bytes >= 0),
  -- The raw MIME as received (always, inbound) or as sent (outbound, once built).
  raw bytea,
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  tsv tsvector generated always as (
    setweight(to_tsvector('english'::regconfig, coalesce(subject, '')), 'A') ||
    setweight(to_tsvector('simple'::regconfig, coalesce(from_address, '')), 'B') ||
    setweight(to_tsvector('english'::regconfig, coalesce(extracted_text, '')), 'C')
  ) stored,
  unique (id, org_id),
  unique (inbox_id, message_id_header),
  foreign key (inbox_id, org_id) references agentry.email_inboxes (id, org_id) on delete cascade,
  foreign key (thread_id, org_id) references agentry.email_threads (id, org_id) on delete cascade
);
create index if not exists email_messages_tsv_idx on agentry.email_messages using gin (tsv);
create index if not exists email_messages_inbox_idx on agentry.email_messages (inbox_id, created_at);
create index if not exists email_messages_thread_idx on agentry.email_messages (thread_id, created_at);
create index if not exists email_messages_sender_idx on agentry.email_messages (org_id, from_address);

create table if not exists agentry.email_attachments (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  -- Null while only uploaded, before a message carries it.
  message_id uuid,
  -- The agent whose key uploaded it, so that agent key still reaches it before it is attached.
  agent_id uuid,
  filename text not null default '' check (length(filename) <= 500),
  content_type text not null default 'application/octet-stream' check (length(content_type) <= 255),
  size_bytes bigint not null check (size_bytes >= 0),
  sha256 text not null,
  content bytea not null,
  -- Set for inline parts (cid: references in HTML).
  content_id text,
  created_at timestamptz not null default now(),
  unique (id, org_id),
  foreign key (message_id, org_id) references agentry.email_messages (id, org_id) on delete cascade,
  foreign key (agent_id, org_id) references agentry.agents (id, org_id) on delete set null (agent_id)
);
create index if not exists email_attachments_message_idx on agentry.email_attachments (message_id);
create index if not exists email_attachments_org_idx on agentry.email_attachments (org_id, created_at);

alter table agentry.email_domains enable row level security;
alter table agentry.email_inboxes enable row level security;
alter table agentry.email_threads enable row level security;
alter table agentry.email_messages enable row level security;
alter table agentry.email_attachments enable row level security;

-- Tenant policies in the shape of 20261130000009_tenant_policies.sql: one restrictive policy per table keeps a
-- credential inside its organisation, and an agent key inside the inboxes whose agent_id is its agent (and
-- those inboxes' threads, messages and attachments, plus attachments it uploaded itself). Domains belong to
-- the organisation: an agent key may read them but only organisation credentials change them (below).
do $$
declare
  t record;
  own_inboxes text := 'inbox_id in (select i.id from agentry.email_inboxes i where i.agent_id = (select agentry.claim_agent_id()))';
begin
  -- (table, its rule for an agent key)
  for t in
    select * from (values
      ('email_domains', 'true'),
      ('email_inboxes', 'agent_id = (select agentry.claim_agent_id())'),
      ('email_threads', own_inboxes),
      ('email_messages', own_inboxes),
      ('email_attachments', 'agent_id = (select agentry.claim_agent_id()) or message_id in (select m.id from agentry.email_messages m where m.'
        || own_inboxes || ')')
    ) as v(table_name, agent_rule)
  loop
    perform agentry.create_tenant_policy(t.table_name, t.agent_rule);
  end loop;
end
$$;

do $$
declare
  p record;
  org_credential text := '(select agentry.claim_agent_id()) is null';
begin
  -- (policy, table, command, scopes any one of which allows it, the command's own rule)
  for p in
    select * from (values
      -- Write scopes may see what they write (INSERT/UPDATE … RETURNING must pass the read policy too).
      ('email_domains_read', 'email_domains', 'select', array['domains:read', 'domains:write'], null),
      ('email_domains_insert', 'email_domains', 'insert', array['domains:write'], org_credential),
      ('email_domains_update', 'email_domains', 'update', array['domains:write'], org_credential),
      ('email_domains_delete', 'email_domains', 'delete', array['domains:write'], org_credential),
      ('email_inboxes_read', 'email_inboxes', 'select', array['inboxes:read', 'inboxes:write'], null),
      ('email_inboxes_insert', 'email_inboxes', 'insert', array['inboxes:write'], null),
      ('email_inboxes_update', 'email_inboxes', 'update', array['inboxes:write'], null),
      ('email_inboxes_delete', 'email_inboxes', 'delete', array['inboxes:write'], null),
      -- Threads and messages arrive through the service connection (inbound) or a send (messages:write).
      ('email_threads_read', 'email_threads', 'select', array['threads:read', 'threads:write', 'messages:write'], null),
      ('email_threads_insert', 'email_threads', 'insert', array['messages:write'], null),
      ('email_threads_update', 'email_threads', 'update', array['threads:write', 'messages:write'], null),
      ('email_messages_read', 'email_messages', 'select', array['messages:read', 'messages:write', 'threads:read'], null),
      ('email_messages_insert', 'email_messages', 'insert', array['messages:write'], null),
      ('email_messages_update', 'email_messages', 'update', array['messages:write'], null),
      ('email_attachments_read', 'email_attachments', 'select', array['attachments:read', 'attachments:write'], null),
      ('email_attachments_insert', 'email_attachments', 'insert', array['attachments:write'], null),
      ('email_attachments_update', 'email_attachments', 'update', array['attachments:write', 'messages:write'], null),
      ('email_attachments_delete', 'email_attachments', 'delete', array['attachments:write'], null)
    ) as v(policy_name, table_name, command, scopes, own_rule)
  loop
    perform agentry.create_scope_policy(p.policy_name, p.table_name, p.command, p.scopes, p.own_rule);
  end loop;
end
$$;

-- The DKIM private key is never a tenant's to read: the select grant names every other column.
grant select (id, org_id, name, status, dkim_selector, dkim_public_key, checks, verified_at, created_at, updated_at),
  insert (org_id, name, dkim_selector, dkim_private_key, dkim_public_key), delete
  on agentry.email_domains to authenticated;
-- Verification writes its outcome as the caller (domains:write, organisation credentials only).
grant update (status, checks, verified_at) on agentry.email_domains to authenticated;
grant select, delete,
  insert (org_id, domain_id, domain, local_part, name, agent_id, status, webhook_endpoint_id, extraction_schema)
  on agentry.email_inboxes to authenticated;
grant update (local_part, name, status, webhook_endpoint_id, extraction_schema) on agentry.email_inboxes to authenticated;
grant select,
  insert (org_id, inbox_id, subject, base_subject, status, tags, assigned_to, message_count, last_message_at,
    last_direction, snippet, has_attachments, participants)
  on agentry.email_threads to authenticated;
grant update (subject, status, tags, assigned_to, message_count, last_message_at, last_direction, snippet,
  has_attachments, participants)
  on agentry.email_threads to authenticated;
grant select,
  insert (org_id, inbox_id, thread_id, direction, message_id_header, in_reply_to, "references", from_address, from_name,
    to_addresses, cc_addresses, bcc_addresses, reply_to, subject, text, html, extracted_text, status, size_bytes, raw)
  on agentry.email_messages to authenticated;
grant update (status, error, raw, size_bytes, sent_at) on agentry.email_messages to authenticated;
grant select, delete,
  insert (org_id, agent_id, filename, content_type, size_bytes, sha256, content, content_id)
  on agentry.email_attachments to authenticated;
grant update (message_id) on agentry.email_attachments to authenticated;

-- The domain an inbox route names, for a key with inbox scopes and none for domains: its id, name and status
-- when it is the caller's organisation's, else no row.
create or replace function agentry.claimed_email_domain(p_domain_id uuid) returns table (id uuid, name text, status text)
  language sql stable security definer set search_path = ''
  as $$
    select d.id, d.name, d.status from agentry.email_domains d
    where d.id = p_domain_id and d.org_id = (select agentry.claim_org_id())
  $$;
revoke execute on function agentry.claimed_email_domain(uuid) from public;
grant execute on function agentry.claimed_email_domain(uuid) to authenticated;
