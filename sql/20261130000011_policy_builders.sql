-- The two policies every tenant table has (see 20261130000009_tenant_policies.sql), as functions the later
-- migrations call instead of each repeating the text: a restrictive policy keeping a tenant to its own
-- organisation's rows (and an agent key to its agent's), and a permissive policy per command naming the
-- scopes that allow it. Both still write the rule out in full, with `(select …)` initPlans, so no function
-- runs per row. Only migrations call them: they run DDL.

create or replace function agentry.create_tenant_policy(p_table text, p_agent_rule text) returns void
  language plpgsql set search_path = ''
  as $$
declare
  tenant text := format(
    'org_id = (select agentry.claim_org_id()) and ((select agentry.claim_agent_id()) is null or %s)', p_agent_rule);
begin
  execute format('drop policy if exists %I on agentry.%I', p_table || '_tenant', p_table);
  execute format('create policy %I on agentry.%I as restrictive for all to authenticated using (%s) with check (%s)',
    p_table || '_tenant', p_table, tenant, tenant);
end
$$;
revoke execute on function agentry.create_tenant_policy(text, text) from public;

-- Any one of `p_scopes` allows the command; `p_own_rule`, when given, must hold as well. The row after an
-- update is the tenant policy's to check (a tenant cannot move a row out of its organisation); the caller's
-- scopes still have to allow it.
create or replace function agentry.create_scope_policy(
  p_policy text, p_table text, p_command text, p_scopes text[], p_own_rule text default null
) returns void
  language plpgsql set search_path = ''
  as $$
declare
  scope text := (
    select string_agg(format('(select agentry.claim_has_scope(%L))', s), ' or ' order by n)
    from unnest(p_scopes) with ordinality as u(s, n));
  allowed text := nullif(concat_ws(' and ', '(' || scope || ')', p_own_rule), '');
  rule text := case p_command
    when 'select' then format('using (%s)', coalesce(allowed, 'true'))
    when 'delete' then format('using (%s)', allowed)
    when 'insert' then format('with check (%s)', allowed)
    when 'update' then format('using (%s) with check (%s)', allowed, scope)
    when 'all' then format('using (%s) with check (%s)', allowed, allowed)
  end;
begin
  if rule is null then
    raise exception 'create_scope_policy: unknown command % for %', p_command, p_policy;
  end if;
  execute format('drop policy if exists %I on agentry.%I', p_policy, p_table);
  execute format('create policy %I on agentry.%I for %s to authenticated %s', p_policy, p_table, p_command, rule);
end
$$;
revoke execute on function agentry.create_scope_policy(text, text, text, text[], text) from public;
