-- Data deletion: a request previews what a scope holds (organization, one inbox, or one inbox's messages
-- before a date) and hands out a confirmation token valid one hour, of which only the SHA-256 is kept;
-- confirming it enqueues a `data.delete` job that deletes in batches and records what it has done here.
--
-- The scope `data:delete` is stronger than any write: `*:write` does not cover it, only `*` (which an owner
-- or admin user holds) or the scope itself. scope_allows said so already by accident (it looked for
-- `*:delete`); now it says so on purpose, the section wildcards covering only read and write.
create or replace function agentry.scope_allows(granted text[], required text) returns boolean
  language sql immutable set search_path = ''
  as $$
    select required = any(granted)
        or '*' = any(granted)
        or (split_part(required, ':', 2) in ('read', 'write') and '*:' || split_part(required, ':', 2) = any(granted))
  $$;

create table if not exists agentry.data_deletion_requests (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  scope text not null check (scope in ('organization', 'inbox', 'messages')),
  inbox_id uuid,
  before timestamptz,
  status text not null default 'pending'
    check (status in ('pending', 'confirmed', 'running', 'completed', 'failed', 'expired')),
  -- Record counts per kind: what the preview found, and what the deletion has removed so far.
  preview jsonb not null default '{}' check (jsonb_typeof(preview) = 'object'),
  done jsonb not null default '{}' check (jsonb_typeof(done) = 'object'),
  token_hash bytea not null check (length(token_hash) = 32),
  expires_at timestamptz not null,
  -- Who asked: an agent key's agent (it sees its own requests only), the key or the user.
  agent_id uuid,
  key_id uuid,
  user_id uuid,
  error text,
  created_at timestamptz not null default now(),
  confirmed_at timestamptz,
  started_at timestamptz,
  completed_at timestamptz,
  updated_at timestamptz not null default now(),
  check ((scope = 'organization') = (inbox_id is null)),
  check (before is null or scope = 'messages')
);
-- One active request per organisation: a second answers 409 until the first finishes or expires.
create unique index if not exists data_deletion_requests_active_idx on agentry.data_deletion_requests (org_id)
  where status in ('pending', 'confirmed', 'running');
create index if not exists data_deletion_requests_org_idx on agentry.data_deletion_requests (org_id, created_at desc);

drop trigger if exists data_deletion_requests_touch on agentry.data_deletion_requests;
create trigger data_deletion_requests_touch before update on agentry.data_deletion_requests
  for each row execute function agentry.touch_updated_at();

alter table agentry.data_deletion_requests enable row level security;
-- An agent key reaches the requests its agent made only.
select agentry.create_tenant_policy('data_deletion_requests', 'agent_id = (select agentry.claim_agent_id())');
select agentry.create_scope_policy('data_deletion_requests_read', 'data_deletion_requests', 'select', array['data:delete']);
select agentry.create_scope_policy('data_deletion_requests_insert', 'data_deletion_requests', 'insert', array['data:delete']);
select agentry.create_scope_policy('data_deletion_requests_update', 'data_deletion_requests', 'update', array['data:delete']);
-- Tenants never read the token's hash back; the deletion's progress is written by the job, as the service.
grant select (id, org_id, scope, inbox_id, before, status, preview, done, expires_at, agent_id, key_id, user_id, error,
  created_at, confirmed_at, started_at, completed_at, updated_at)
  on agentry.data_deletion_requests to authenticated;
grant insert (org_id, scope, inbox_id, before, preview, token_hash, created_at, expires_at, agent_id, key_id, user_id)
  on agentry.data_deletion_requests to authenticated;
grant update (status, confirmed_at) on agentry.data_deletion_requests to authenticated;
grant select, insert, update, delete on agentry.data_deletion_requests to service_role;

-- Finds a request's token hash for the confirming tenant, who may not read the column: RLS still decides
-- whether the caller sees the request at all (security invoker for the visibility check, definer for the hash).
create or replace function agentry.data_deletion_token_matches(p_id uuid, p_hash bytea) returns boolean
  language sql stable security definer set search_path = ''
  as $$
    select token_hash = p_hash from agentry.data_deletion_requests
    where id = p_id and org_id = agentry.claim_org_id()
      and (agentry.claim_agent_id() is null or agent_id = agentry.claim_agent_id())
  $$;
revoke execute on function agentry.data_deletion_token_matches(uuid, bytea) from public;
grant execute on function agentry.data_deletion_token_matches(uuid, bytea) to authenticated;
