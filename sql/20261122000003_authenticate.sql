-- Request authentication in one round trip. The API calls authenticate_key (or authenticate_member for a
-- dashboard user) once per request: it finds the credential, rejects revoked or expired ones, counts the
-- request against the organisation's bucket, bumps the key's usage counters and checks the route's scope.
-- These functions run as their owner because no tenant claims exist yet when they are called.

-- Sliding-window counter (two fixed one-minute windows, the previous one weighted by how much of it still
-- overlaps the last sixty seconds). The row lock makes it exact across any number of API processes.
create or replace function agentry.take_rate_limit(
  p_org_id uuid, p_limit integer,
  out allowed boolean, out remaining integer, out reset_at timestamptz, out retry_after integer)
  language plpgsql security definer set search_path = ''
  as $$
  declare
    bucket agentry.rate_limits%rowtype;
    t timestamptz;
    w timestamptz;
    elapsed numeric;
    estimate numeric;
    wait numeric;
  begin
    select * into bucket from agentry.rate_limits where org_id = p_org_id for update;
    if not found then
      insert into agentry.rate_limits (org_id) values (p_org_id) on conflict (org_id) do nothing;
      select * into bucket from agentry.rate_limits where org_id = p_org_id for update;
    end if;

    -- Read the clock after taking the lock so that waiting requests never see time run backwards.
    t := clock_timestamp();
    w := date_trunc('minute', t);
    if w > bucket.window_start then
      bucket.previous_count := case when w = bucket.window_start + interval '1 minute' then bucket.current_count else 0 end;
      bucket.current_count := 0;
      bucket.window_start := w;
    end if;
    elapsed := extract(epoch from t - w);
    estimate := bucket.previous_count * (60 - elapsed) / 60 + bucket.current_count;
    allowed := estimate + 1 <= p_limit;

    if allowed then
      bucket.current_count := bucket.current_count + 1;
      estimate := estimate + 1;
      retry_after := 0;
    elsif bucket.current_count + 1 <= p_limit then
      -- Still room in this window once enough of the previous one has slid out.
      wait := 60 - (p_limit - 1 - bucket.current_count) * 60.0 / bucket.previous_count - elapsed;
      retry_after := greatest(1, ceil(wait));
    else
      -- This window is full: wait for it to end, then for enough of it to slide out.
      wait := (60 - elapsed) + greatest(0, 60 - (p_limit - 1) * 60.0 / bucket.current_count);
      retry_after := greatest(1, ceil(wait));
    end if;

    update agentry.rate_limits
      set window_start = bucket.window_start, current_count = bucket.current_count, previous_count = bucket.previous_count
      where org_id = p_org_id;
    remaining := greatest(0, floor(p_limit - estimate));
    reset_at := w + interval '1 minute';
  end
  $$;

-- Outcomes: ok, unknown, revoked, expired, rate_limited, insufficient_scope. Rate limiting and usage
-- counters apply to every request made with a valid key, including those refused for scope.
create or replace function agentry.authenticate_key(p_key_hash bytea, p_scope text)
  returns table (
    outcome text, key_id uuid, org_id uuid, agent_id uuid, mode text, scopes text[], expires_at timestamptz,
    org_name text, plan text, rate_limit integer, rate_remaining integer, rate_reset timestamptz, retry_after integer)
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

    select o.name, o.plan, coalesce(o.rate_limit_per_minute, p.rate_limit_per_minute)
      into org_name, plan, rate_limit
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
create or replace function agentry.authenticate_member(p_user_id uuid, p_org_id uuid, p_scope text)
  returns table (
    outcome text, org_id uuid, role text, scopes text[],
    org_name text, plan text, rate_limit integer, rate_remaining integer, rate_reset timestamptz, retry_after integer)
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
    select o.name, o.plan, coalesce(o.rate_limit_per_minute, p.rate_limit_per_minute)
      into org_name, plan, rate_limit
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
revoke execute on function agentry.take_rate_limit(uuid, integer) from public;
revoke execute on function agentry.authenticate_key(bytea, text) from public;
revoke execute on function agentry.authenticate_member(uuid, uuid, text) from public;
grant execute on function agentry.take_rate_limit(uuid, integer) to service_role;
grant execute on function agentry.authenticate_key(bytea, text) to service_role;
grant execute on function agentry.authenticate_member(uuid, uuid, text) to service_role;
