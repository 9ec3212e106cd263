-- The authentication functions also return the organisation's cap on requests in flight
-- (plans.max_concurrent_requests), so the API can enforce it without another round trip. The return type
-- changes, which `create or replace` cannot do: each function is dropped and created again, with its grants.

drop function if exists agentry.authenticate_key(bytea, text);
drop function if exists agentry.authenticate_member(uuid, uuid, text);

-- Outcomes: ok, unknown, revoked, expired, rate_limited, insufficient_scope. Rate limiting and usage
-- counters apply to every request made with a valid key, including those refused for scope.
create function agentry.authenticate_key(p_key_hash bytea, p_scope text)
  returns table (
    outcome text, key_id uuid, org_id uuid, agent_id uuid, mode text, scopes text[], expires_at timestamptz,
    org_name text, plan text, rate_limit integer, rate_remaining integer, rate_reset timestamptz, retry_after integer,
    max_concurrent_requests integer)
  language plpgsql security definer set search_path = ''
  as $$
  declare
    k agentry.api_keys%rowtype;
    rl record;
  begin
    select * into k from agentry.api_keys where key_hash = p_key_hash;
    if not found then
      outcome := 'unknown';
      return next;
      return;
    end if;
    key_id := k.id; org_id := k.org_id; agent_id := k.agent_id; mode := k.mode; scopes := k.scopes;
    expires_at := k.expires_at;
    if k.status <> 'active' then
      outcome := 'revoked';
      return next;
      return;
    end if;
    if k.expires_at is not null and k.expires_at <= clock_timestamp() then
      outcome := 'expired';
      return next;
      return;
    end if;

    -- Counters are not worth a synchronous WAL flush per request; a crash may lose the last few.
    perform set_config('synchronous_commit', 'off', true);

    select o.name, o.plan, coalesce(o.rate_limit_per_minute, p.rate_limit_per_minute), p.max_concurrent_requests
      into org_name, plan, rate_limit, max_concurrent_requests
      from agentry.organisations o join agentry.plans p on p.id = o.plan
      where o.id = k.org_id;
    rl := agentry.take_rate_limit(k.org_id, rate_limit);
    rate_remaining := rl.remaining; rate_reset := rl.reset_at; retry_after := rl.retry_after;
    if not rl.allowed then
      outcome := 'rate_limited';
      return next;
      return;
    end if;

    update agentry.api_keys set last_used_at = clock_timestamp(), call_count = call_count + 1 where id = k.id;
    outcome := case when p_scope is null or agentry.scope_allows(k.scopes, p_scope) then 'ok' else 'insufficient_scope' end;
    return next;
  end
  $$;

-- A dashboard user (Supabase Auth JWT, already verified by the API) acting in one of their organisations.
-- Owners and admins hold full access; members may read. Outcomes: ok, not_member, org_required,
-- rate_limited, insufficient_scope.
create function agentry.authenticate_member(p_user_id uuid, p_org_id uuid, p_scope text)
  returns table (
    outcome text, org_id uuid, role text, scopes text[],
    org_name text, plan text, rate_limit integer, rate_remaining integer, rate_reset timestamptz, retry_after integer,
    max_concurrent_requests integer)
  language plpgsql security definer set search_path = ''
  as $$
  declare
    m agentry.members%rowtype;
    memberships integer;
    rl record;
  begin
    if p_org_id is null then
      select count(*) into memberships from agentry.members where user_id = p_user_id;
      if memberships > 1 then
        outcome := 'org_required';
        return next;
        return;
      end if;
      select * into m from agentry.members where user_id = p_user_id;
    else
      select * into m from agentry.members where user_id = p_user_id and members.org_id = p_org_id;
    end if;
    if not found then
      outcome := 'not_member';
      return next;
      return;
    end if;
    org_id := m.org_id; role := m.role;
    scopes := case when m.role in ('owner', 'admin') then array['*'] else array['*:read'] end;

    perform set_config('synchronous_commit', 'off', true);
    select o.name, o.plan, coalesce(o.rate_limit_per_minute, p.rate_limit_per_minute), p.max_concurrent_requests
      into org_name, plan, rate_limit, max_concurrent_requests
      from agentry.organisations o join agentry.plans p on p.id = o.plan
      where o.id = m.org_id;
    rl := agentry.take_rate_limit(m.org_id, rate_limit);
    rate_remaining := rl.remaining; rate_reset := rl.reset_at; retry_after := rl.retry_after;
    if not rl.allowed then
      outcome := 'rate_limited';
    elsif p_scope is null or agentry.scope_allows(scopes, p_scope) then
      outcome := 'ok';
    else
      outcome := 'insufficient_scope';
    end if;
    return next;
  end
  $$;

-- Neither the anonymous nor the tenant role may call these directly.
revoke execute on function agentry.authenticate_key(bytea, text) from public;
revoke execute on function agentry.authenticate_member(uuid, uuid, text) from public;
grant execute on function agentry.authenticate_key(bytea, text) to service_role;
grant execute on function agentry.authenticate_member(uuid, uuid, text) to service_role;
