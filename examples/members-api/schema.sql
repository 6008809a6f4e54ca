-- members-api schema. Every statement is idempotent: seed.js runs this file on every start,
-- under an advisory lock so that several processes starting together do not race on the catalog.

CREATE TABLE IF NOT EXISTS members (
  id         serial PRIMARY KEY,
  name       text NOT NULL,
  email      text NOT NULL UNIQUE,
  joined_on  date NOT NULL,
  plan       text NOT NULL
);

CREATE TABLE IF NOT EXISTS invoices (
  id            serial PRIMARY KEY,
  member_id     int NOT NULL REFERENCES members (id),
  issued_on     date NOT NULL,
  due_on        date NOT NULL,
  amount_cents  int NOT NULL CHECK (amount_cents >= 0),
  status        text NOT NULL
);

CREATE TABLE IF NOT EXISTS payments (
  id            serial PRIMARY KEY,
  invoice_id    int NOT NULL REFERENCES invoices (id),
  paid_on       date NOT NULL,
  amount_cents  int NOT NULL CHECK (amount_cents > 0),
  method        text NOT NULL
);

-- Foreign keys are not indexed by PostgreSQL itself; every per-member and per-invoice lookup
-- in the service goes through these two.
CREATE INDEX IF NOT EXISTS invoices_member_id_idx ON invoices (member_id);
CREATE INDEX IF NOT EXISTS payments_invoice_id_idx ON payments (invoice_id);
