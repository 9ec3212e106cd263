-- The price table lists chat models and embedding models; only chat models may be an agent's model.
alter table agentry.model_prices add column if not exists kind text not null default 'chat';
alter table agentry.model_prices drop constraint if exists model_prices_kind_check;
alter table agentry.model_prices add constraint model_prices_kind_check check (kind in ('chat', 'embeddings'));
update agentry.model_prices set kind = 'embeddings'
  where model in ('text-embedding-3-small', 'text-embedding-3-large', 'text-embedding-ada-002') and kind <> 'embeddings';
