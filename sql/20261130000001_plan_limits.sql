-- What a plan allows beyond its request rate: the caps that keep one organisation from using up what all
-- of them share (database connections, the webhook queue, dataset tables). Each guard reads its own
-- column; an organisation's plan decides, so raising a customer's caps is moving them to another plan.
alter table agentry.plans
  -- Requests one organisation may have in flight at once in one API process (each holds a pooled
  -- connection while it runs); past it, 429 too_many_concurrent_requests.
  add column if not exists max_concurrent_requests integer not null default 4 check (max_concurrent_requests > 0),
  add column if not exists max_datasets integer not null default 100 check (max_datasets > 0),
  add column if not exists max_webhook_endpoints integer not null default 10 check (max_webhook_endpoints > 0),
  -- Deliveries waiting (pending or failed, not yet final) per endpoint.
  add column if not exists max_queued_deliveries_per_endpoint integer not null default 10000
    check (max_queued_deliveries_per_endpoint > 0);

update agentry.plans set max_concurrent_requests = 4, max_datasets = 100, max_webhook_endpoints = 10,
  max_queued_deliveries_per_endpoint = 10000 where id = 'free';
update agentry.plans set max_concurrent_requests = 8, max_datasets = 1000, max_webhook_endpoints = 50,
  max_queued_deliveries_per_endpoint = 100000 where id = 'pro';
update agentry.plans set max_concurrent_requests = 16, max_datasets = 10000, max_webhook_endpoints = 200,
  max_queued_deliveries_per_endpoint = 1000000 where id = 'enterprise';
