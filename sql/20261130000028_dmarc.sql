-- DMARC aggregate reports (RFC 7489 appendix C, RFC 9990): what receivers saw of mail sent as an
-- organisation's custom domains. A report is kept once per (domain, reporter, report id): receivers resend.
-- Reports belong to the organisation like its domains (scope domains:*); an agent key may read them, and only
-- organisation credentials submit them.

create table if not exists agentry.dmarc_reports (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  domain_id uuid not null,
  -- policy_published/domain: the custom domain itself or one of its subdomains.
  policy_domain text not null check (length(policy_domain) <= 253),
  org_name text not null check (length(org_name) between 1 and 1024),
  email text not null default '' check (length(email) <= 1024),
  report_id text not null check (length(report_id) between 1 and 1024),
  date_begin timestamptz not null,
  date_end timestamptz not null,
  -- { domain, adkim, aspf, p, sp, np, pct, fo, testing, discovery_method } as the reporter published them.
  policy_published jsonb not null default '{}' check (jsonb_typeof(policy_published) = 'object'),
  -- report_metadata/error: what the reporter says went wrong while producing the report.
  errors text[] not null default '{}',
  schema_version text,
  record_count integer not null default 0 check (record_count >= 0),
  message_count bigint not null default 0 check (message_count >= 0),
  received_at timestamptz not null default now(),
  foreign key (domain_id, org_id) references agentry.email_domains (id, org_id) on delete cascade,
  unique (domain_id, org_name, report_id)
);
create index if not exists dmarc_reports_listing_idx on agentry.dmarc_reports (domain_id, date_end desc, id desc);
create index if not exists dmarc_reports_org_idx on agentry.dmarc_reports (org_id);

create table if not exists agentry.dmarc_records (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  report_id uuid not null references agentry.dmarc_reports (id) on delete cascade,
  source_ip inet not null,
  count bigint not null check (count >= 0),
  -- policy_evaluated: what the receiver did and whether DKIM and SPF passed *aligned* with header_from.
  disposition text not null,
  dkim text not null,
  spf text not null,
  reasons jsonb not null default '[]' check (jsonb_typeof(reasons) = 'array'),
  header_from text not null,
  envelope_from text,
  envelope_to text,
  -- auth_results: { dkim: [{ domain, selector, result }], spf: [{ domain, scope, result }] }, unaligned raw results.
  auth_results jsonb not null default '{}' check (jsonb_typeof(auth_results) = 'object')
);
create index if not exists dmarc_records_report_idx on agentry.dmarc_records (report_id);
create index if not exists dmarc_records_org_idx on agentry.dmarc_records (org_id);

alter table agentry.dmarc_reports enable row level security;
alter table agentry.dmarc_records enable row level security;

select agentry.create_tenant_policy('dmarc_reports', 'true');
select agentry.create_tenant_policy('dmarc_records', 'true');

do $$
declare
  p record;
  org_credential text := '(select agentry.claim_agent_id()) is null';
begin
  -- (policy, table, command, scopes any one of which allows it, the command's own rule)
  for p in
    select * from (values
      ('dmarc_reports_read', 'dmarc_reports', 'select', array['domains:read', 'domains:write'], null),
      ('dmarc_reports_insert', 'dmarc_reports', 'insert', array['domains:write'], org_credential),
      ('dmarc_records_read', 'dmarc_records', 'select', array['domains:read', 'domains:write'], null),
      ('dmarc_records_insert', 'dmarc_records', 'insert', array['domains:write'], org_credential)
    ) as v(policy_name, table_name, command, scopes, own_rule)
  loop
    perform agentry.create_scope_policy(p.policy_name, p.table_name, p.command, p.scopes, p.own_rule);
  end loop;
end
$$;

grant select,
  insert (org_id, domain_id, policy_domain, org_name, email, report_id, date_begin, date_end, policy_published, errors,
    schema_version, record_count, message_count)
  on agentry.dmarc_reports to authenticated;
grant select,
  insert (org_id, report_id, source_ip, count, disposition, dkim, spf, reasons, header_from, envelope_from, envelope_to,
    auth_results)
  on agentry.dmarc_records to authenticated;
