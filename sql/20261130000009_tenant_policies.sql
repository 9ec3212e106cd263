-- Tenant policies, written once. Every tenant table gets one restrictive policy, `<table>_tenant`, that keeps
-- a credential inside its organisation and, where the table is agent-scoped, an agent key inside its own
-- agent; Postgres ANDs it with whatever else is allowed. Then each command a tenant may run has one
-- permissive policy saying which scopes allow it, plus the rule of its own where there is one (keys stay
-- within their creator, agents are made and removed by organisation credentials, test events go to an
-- endpoint the caller sees, an Idempotency-Key is its sender's). One permissive policy per command keeps the
-- advisors' multiple_permissive_policies quiet.
--
-- The blocks below emit each policy's full text rather than calling a helper: a SQL function with a fixed
-- search_path is never inlined, so it would run once per row and hide the `org_id` predicate from the
-- planner. Each claim is wrapped in `(select …)` so Postgres evaluates it once per statement.

do $$
declare
  t record;
  tenant text;
begin
  -- (table, the column naming its organisation, the column naming its agent where it has one)
  for t in
    select * from (values
      ('organisations', 'id', null),
      ('members', 'org_id', null),
      ('environments', 'org_id', null),
      ('rate_limits', 'org_id', null),
      ('idempotent_requests', 'org_id', null),
      ('agents', 'org_id', 'id'),
      ('api_keys', 'org_id', 'agent_id'),
      ('audit_log', 'org_id', 'agent_id'),
      ('datasets', 'org_id', 'agent_id'),
      ('dataset_rows', 'org_id', 'agent_id'),
      ('webhook_endpoints', 'org_id', 'agent_id'),
      ('events', 'org_id', 'agent_id'),
      ('webhook_deliveries', 'org_id', 'agent_id'),
      ('webhook_attempts', 'org_id', 'agent_id'),
      ('conversations', 'org_id', 'agent_id'),
      ('messages', 'org_id', 'agent_id'),
      ('usage_records', 'org_id', 'agent_id')
    ) as v(table_name, org_column, agent_column)
  loop
    tenant := format('%I = (select agentry.claim_org_id())', t.org_column);
    if t.agent_column is not null then
      tenant := tenant || format(
        ' and ((select agentry.claim_agent_id()) is null or %I = (select agentry.claim_agent_id()))', t.agent_column);
    end if;
    execute format('drop policy if exists %I on agentry.%I', t.table_name || '_tenant', t.table_name);
    execute format(
      'create policy %I on agentry.%I as restrictive for all to authenticated using (%s) with check (%s)',
      t.table_name || '_tenant', t.table_name, tenant, tenant);
  end loop;
end
$$;

do $$
declare
  p record;
  allowed text;
  scope text;
  rule text;
begin
  -- (policy, table, command, scopes any one of which allows it, the command's own rule)
  for p in
    select * from (values
      ('organisations_read', 'organisations', 'select', array['org:read', 'org:write'], null),
      ('organisations_write', 'organisations', 'update', array['org:write'], null),
      ('members_read', 'members', 'select', array['org:read'], null),
      ('environments_read', 'environments', 'select', array['org:read'], null),
      -- Written only by the request path's security-definer functions; a tenant may read its own bucket.
      ('rate_limits_read', 'rate_limits', 'select', array[]::text[], null),
      ('idempotent_requests_own', 'idempotent_requests', 'all', array[]::text[],
        'caller_id = (select agentry.claim_caller_id())'),
      -- Chatting reads the agent it talks to; write scopes may see what they write (INSERT/UPDATE …
      -- RETURNING must pass the read policy too), here and below.
      ('agents_read', 'agents', 'select', array['agents:read', 'agents:write', 'chat:write'], null),
      ('agents_insert', 'agents', 'insert', array['agents:write'], '(select agentry.claim_agent_id()) is null'),
      ('agents_update', 'agents', 'update', array['agents:write'], null),
      ('agents_delete', 'agents', 'delete', array['agents:write'], '(select agentry.claim_agent_id()) is null'),
      ('api_keys_read', 'api_keys', 'select', array['keys:read', 'keys:write'], null),
      -- A new key stays within its creator: no scope the creator lacks, no expiry later than the creator's,
      -- and a test key creates test keys only.
      ('api_keys_insert', 'api_keys', 'insert', array['keys:write'],
        'agentry.scopes_within(scopes, (select agentry.claim_scopes()))'
        ' and ((select agentry.claim_key_expires_at()) is null or expires_at <= (select agentry.claim_key_expires_at()))'
        ' and ((select agentry.claim_key_mode()) is distinct from ''test'' or mode = ''test'')'),
      -- Revoking, expiring and deleting reach only keys whose every scope the caller holds.
      ('api_keys_update', 'api_keys', 'update', array['keys:write'],
        'agentry.scopes_within(scopes, (select agentry.claim_scopes()))'),
      ('api_keys_delete', 'api_keys', 'delete', array['keys:write'],
        'agentry.scopes_within(scopes, (select agentry.claim_scopes()))'),
      ('audit_log_read', 'audit_log', 'select', array['audit-logs:read'], null),
      ('datasets_read', 'datasets', 'select', array['datasets:read', 'datasets:write'], null),
      ('datasets_insert', 'datasets', 'insert', array['datasets:write'], null),
      ('datasets_update', 'datasets', 'update', array['datasets:write'], null),
      ('datasets_delete', 'datasets', 'delete', array['datasets:write'], null),
      ('dataset_rows_read', 'dataset_rows', 'select', array['datasets:read', 'datasets:write'], null),
      ('dataset_rows_insert', 'dataset_rows', 'insert', array['datasets:write'], null),
      ('dataset_rows_update', 'dataset_rows', 'update', array['datasets:write'], null),
      ('dataset_rows_delete', 'dataset_rows', 'delete', array['datasets:write'], null),
      ('webhook_endpoints_read', 'webhook_endpoints', 'select', array['webhooks:read', 'webhooks:write'], null),
      ('webhook_endpoints_insert', 'webhook_endpoints', 'insert', array['webhooks:write'], null),
      ('webhook_endpoints_update', 'webhook_endpoints', 'update', array['webhooks:write'], null),
      ('webhook_endpoints_delete', 'webhook_endpoints', 'delete', array['webhooks:write'], null),
      ('events_read', 'events', 'select', array['webhooks:read', 'webhooks:write'], null),
      -- Tenants only add events addressed to one of the endpoints they can see (webhook.test); triggers add
      -- the rest.
      ('events_insert', 'events', 'insert', array['webhooks:write'],
        'endpoint_id in (select id from agentry.webhook_endpoints)'),
      ('webhook_deliveries_read', 'webhook_deliveries', 'select', array['webhooks:read', 'webhooks:write'], null),
      -- Retrying and recovering put deliveries back in the queue; the column grants allow nothing else.
      ('webhook_deliveries_update', 'webhook_deliveries', 'update', array['webhooks:write'], null),
      ('webhook_attempts_read', 'webhook_attempts', 'select', array['webhooks:read', 'webhooks:write'], null),
      -- Conversations are read with conversations:read, changed with conversations:write, and started and
      -- continued by chat:write.
      ('conversations_read', 'conversations', 'select',
        array['conversations:read', 'conversations:write', 'chat:write'], null),
      ('conversations_insert', 'conversations', 'insert', array['chat:write'], null),
      ('conversations_update', 'conversations', 'update', array['conversations:write', 'chat:write'], null),
      ('conversations_delete', 'conversations', 'delete', array['conversations:write'], null),
      ('messages_read', 'messages', 'select', array['conversations:read', 'conversations:write', 'chat:write'], null),
      ('messages_insert', 'messages', 'insert', array['chat:write'], null),
      ('usage_records_read', 'usage_records', 'select', array['runs:read', 'chat:write'], null),
      ('usage_records_insert', 'usage_records', 'insert', array['chat:write'], null)
    ) as v(policy_name, table_name, command, scopes, own_rule)
  loop
    scope := (
      select string_agg(format('(select agentry.claim_has_scope(%L))', s), ' or ' order by n)
      from unnest(p.scopes) with ordinality as u(s, n));
    allowed := nullif(concat_ws(' and ', '(' || scope || ')', p.own_rule), '');
    execute format('drop policy if exists %I on agentry.%I', p.policy_name, p.table_name);
    rule := case p.command
      when 'select' then format('using (%s)', coalesce(allowed, 'true'))
      when 'delete' then format('using (%s)', allowed)
      when 'insert' then format('with check (%s)', allowed)
      -- The row after an update is the tenant policy's to check (a tenant cannot move a row out of its
      -- organisation); the caller's scopes still have to allow it.
      when 'update' then format('using (%s) with check (%s)', allowed, scope)
      when 'all' then format('using (%s) with check (%s)', allowed, allowed)
    end;
    execute format('create policy %I on agentry.%I for %s to authenticated %s',
      p.policy_name, p.table_name, p.command, rule);
  end loop;
end
$$;

-- The plan `npm start` puts its demo organisation on, so that exploring with curl or a script does not meet
-- the free plan's 60 a minute. Nothing else starts on it: a new organisation's plan defaults to free.
insert into agentry.plans (id, name, rate_limit_per_minute, max_concurrent_requests, max_datasets, max_webhook_endpoints,
  max_queued_deliveries_per_endpoint)
values ('development', 'Development', 6000, 16, 10000, 200, 1000000)
on conflict (id) do nothing;
