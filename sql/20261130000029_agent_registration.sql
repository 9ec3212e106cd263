-- Agents that register themselves with an Ed25519 keypair (POST /auth/agent-register, /auth/agent-verify)
-- and then sign their requests (Authorization: Agent <agent id>:<signature>, functions/_core/agent-signature.ts).
-- A signup is held as the SHA-256 of its token only; completing one creates, in one transaction, the
-- organisation (with its slug), the agent, the agent's public key and its inbox on the shared domain.

-- The slug a self-registered organisation is known by; organisations made by an operator have none.
alter table agentry.organisations add column if not exists slug text;
create unique index if not exists organisations_slug_idx on agentry.organisations (slug);

-- Pending signups. Not tenant data (no tenant exists yet): RLS on, no grants, reached only through the
-- security-definer functions below on the service connection.
create table if not exists agentry.agent_signups (
  id uuid primary key default gen_random_uuid(),
  token_hash bytea not null unique,
  challenge text not null,
  agent_name text not null check (length(agent_name) between 1 and 200),
  org_name text not null check (length(org_name) between 1 and 200),
  org_slug text not null check (org_slug ~ '^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$'),
  public_key bytea not null check (length(public_key) = 32),
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index if not exists agent_signups_expiry_idx on agentry.agent_signups (expires_at);
alter table agentry.agent_signups enable row level security;

-- One Ed25519 public key per self-registered agent. Readable by its own organisation as the agents are.
create table if not exists agentry.agent_public_keys (
  agent_id uuid primary key,
  org_id uuid not null,
  public_key bytea not null check (length(public_key) = 32),
  created_at timestamptz not null default now(),
  foreign key (agent_id, org_id) references agentry.agents (id, org_id) on delete cascade
);
create index if not exists agent_public_keys_org_idx on agentry.agent_public_keys (org_id);
alter table agentry.agent_public_keys enable row level security;
drop policy if exists agent_public_keys_read on agentry.agent_public_keys;
create policy agent_public_keys_read on agentry.agent_public_keys for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('agents:read'))
  );
grant select on agentry.agent_public_keys to authenticated;

-- A process caches an agent's key like an API key's credential: removing or changing it (the agent deleted,
-- its organisation gone) must reach every process, so it announces its organisation on the auth channel.
create or replace function agentry.notify_agent_key_change() returns trigger
  language plpgsql set search_path = ''
  as $$
  begin
    perform pg_notify('agentry_auth', 'org:' || old.org_id);
    return null;
  end
  $$;
drop trigger if exists agent_public_keys_auth_changed on agentry.agent_public_keys;
create trigger agent_public_keys_auth_changed after update or delete on agentry.agent_public_keys
  for each row execute function agentry.notify_agent_key_change();

-- Signed requests seen while their timestamp is still inside the window: the same signature twice is a
-- replay. A table rather than each process's memory, so that a replay sent to another process is refused too.
create table if not exists agentry.agent_request_signatures (
  signature_hash bytea primary key,
  expires_at timestamptz not null
);
create index if not exists agent_request_signatures_expiry_idx on agentry.agent_request_signatures (expires_at);
alter table agentry.agent_request_signatures enable row level security;

-- Whether a slug is free: no organisation has it and no inbox on the shared domain has it as its address.
create or replace function agentry.agent_slug_taken(p_slug text, p_shared_domain text) returns boolean
  language sql stable security definer set search_path = ''
  as $$
    select exists (select 1 from agentry.organisations where slug = p_slug)
        or exists (select 1 from agentry.email_inboxes where address = p_slug || '@' || p_shared_domain)
  $$;

-- Outcomes: ok, slug_taken.
create or replace function agentry.begin_agent_signup(
  p_token_hash bytea, p_challenge text, p_agent_name text, p_org_name text, p_org_slug text, p_public_key bytea,
  p_shared_domain text, p_expires_at timestamptz, p_now timestamptz default null)
  returns text
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if agentry.agent_slug_taken(p_org_slug, p_shared_domain) then
      return 'slug_taken';
    end if;
    -- Signups long expired are of no use to anyone: each new one clears a few.
    delete from agentry.agent_signups
      where id in (select id from agentry.agent_signups
                   where expires_at < coalesce(p_now, clock_timestamp()) - interval '1 day' limit 100);
    insert into agentry.agent_signups (token_hash, challenge, agent_name, org_name, org_slug, public_key, expires_at)
      values (p_token_hash, p_challenge, p_agent_name, p_org_name, p_org_slug, p_public_key, p_expires_at);
    return 'ok';
  end
  $$;

-- A signup by its token's hash, to check the signature against (no row: unknown token).
create or replace function agentry.find_agent_signup(p_token_hash bytea)
  returns table (challenge text, public_key bytea, expires_at timestamptz, used boolean)
  language sql stable security definer set search_path = ''
  as $$
    select s.challenge, s.public_key, s.expires_at, s.used_at is not null
      from agentry.agent_signups s where s.token_hash = p_token_hash
  $$;

-- Completes a signup whose signature the API has verified. Outcomes: ok, unknown, used, expired,
-- slug_taken (someone completed a signup for the same slug first; nothing is created).
create or replace function agentry.complete_agent_signup(p_token_hash bytea, p_shared_domain text, p_now timestamptz default null)
  returns table (outcome text, agent_id uuid, org_id uuid, inbox_email text)
  language plpgsql security definer set search_path = ''
  as $$
  declare
    s agentry.agent_signups%rowtype;
    t timestamptz := coalesce(p_now, clock_timestamp());
  begin
    select * into s from agentry.agent_signups where token_hash = p_token_hash for update;
    if not found then
      outcome := 'unknown';
    elsif s.used_at is not null then
      outcome := 'used';
    elsif s.expires_at <= t then
      outcome := 'expired';
    elsif agentry.agent_slug_taken(s.org_slug, p_shared_domain) then
      outcome := 'slug_taken';
    else
      begin
        insert into agentry.organisations (name, plan, slug) values (s.org_name, 'free', s.org_slug)
          returning id into org_id;
        insert into agentry.agents (org_id, name) values (org_id, s.agent_name) returning id into agent_id;
        insert into agentry.agent_public_keys (agent_id, org_id, public_key) values (agent_id, org_id, s.public_key);
        insert into agentry.email_inboxes (org_id, domain, local_part, agent_id)
          values (org_id, p_shared_domain, s.org_slug, agent_id)
          returning address into inbox_email;
        update agentry.agent_signups set used_at = t where id = s.id;
        outcome := 'ok';
      exception when unique_violation then
        -- Another signup took the slug or the address between the check and the inserts.
        outcome := 'slug_taken';
        org_id := null;
        agent_id := null;
        inbox_email := null;
      end;
    end if;
    return next;
  end
  $$;

-- Outcomes: ok, unknown. A self-registered agent acts for the organisation it created with every scope,
-- as its own agent (claims carry its agent id, so RLS narrows it to its own keys, inboxes and agent).
create or replace function agentry.verify_agent(p_agent_id uuid, p_route_scopes text[])
  returns table (
    outcome text, org_id uuid, public_key bytea, scopes text[], org_name text, plan text, rate_limit integer,
    max_concurrent_requests integer, allowed_scopes text[])
  language plpgsql stable security definer set search_path = ''
  as $$
  begin
    select k.org_id, k.public_key into org_id, public_key from agentry.agent_public_keys k where k.agent_id = p_agent_id;
    if not found then
      outcome := 'unknown';
      return next;
      return;
    end if;
    outcome := 'ok';
    scopes := array['*'];
    select o.name, o.plan, coalesce(o.rate_limit_per_minute, p.rate_limit_per_minute), p.max_concurrent_requests
      into org_name, plan, rate_limit, max_concurrent_requests
      from agentry.organisations o join agentry.plans p on p.id = o.plan
      where o.id = verify_agent.org_id;
    allowed_scopes := agentry.allowed_scopes(scopes, p_route_scopes);
    return next;
  end
  $$;

-- Notes a verified request signature; false when it was already seen (a replay). Entries whose window has
-- passed are cleared as new ones arrive.
create or replace function agentry.record_agent_signature(p_signature_hash bytea, p_expires_at timestamptz, p_now timestamptz default null)
  returns boolean
  language plpgsql security definer set search_path = ''
  as $$
  begin
    delete from agentry.agent_request_signatures
      where signature_hash in (select signature_hash from agentry.agent_request_signatures
                               where expires_at < coalesce(p_now, clock_timestamp()) limit 100);
    insert into agentry.agent_request_signatures (signature_hash, expires_at) values (p_signature_hash, p_expires_at)
      on conflict (signature_hash) do nothing;
    return found;
  end
  $$;

revoke execute on function agentry.agent_slug_taken(text, text) from public;
revoke execute on function agentry.begin_agent_signup(bytea, text, text, text, text, bytea, text, timestamptz, timestamptz) from public;
revoke execute on function agentry.find_agent_signup(bytea) from public;
revoke execute on function agentry.complete_agent_signup(bytea, text, timestamptz) from public;
revoke execute on function agentry.verify_agent(uuid, text[]) from public;
revoke execute on function agentry.record_agent_signature(bytea, timestamptz, timestamptz) from public;
grant execute on function agentry.begin_agent_signup(bytea, text, text, text, text, bytea, text, timestamptz, timestamptz) to service_role;
grant execute on function agentry.find_agent_signup(bytea) to service_role;
grant execute on function agentry.complete_agent_signup(bytea, text, timestamptz) to service_role;
grant execute on function agentry.verify_agent(uuid, text[]) to service_role;
grant execute on function agentry.record_agent_signature(bytea, timestamptz, timestamptz) to service_role;
