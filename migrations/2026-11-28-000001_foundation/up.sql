-- Accounts, credentials and relay domains: everything the control API owns.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'customer', 'domain_admin')),
    -- The customer that created a domain_admin account; such accounts go with their customer.
    parent_id BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    max_domains INTEGER CHECK (max_domains >= 0),
    may_create_domain_admins BOOLEAN,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Plan fields belong to customers, and customers always have them.
    CONSTRAINT accounts_plan_only_for_customers CHECK (
        (role = 'customer') = (max_domains IS NOT NULL AND may_create_domain_admins IS NOT NULL)
    ),
    CONSTRAINT accounts_email_lower CHECK (email = lower(email))
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (email);
CREATE INDEX accounts_parent_id_idx ON accounts (parent_id, id) WHERE parent_id IS NOT NULL;
CREATE INDEX accounts_role_idx ON accounts (role, id);

CREATE TABLE refresh_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Every token issued by refreshing descends from one login; reuse of a spent token
    -- revokes the whole family.
    family_id UUID NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_account_idx ON refresh_tokens (account_id);

CREATE TABLE relay_domains (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL DEFAULT 'relay' CHECK (type IN ('relay')),
    owner_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    target_host TEXT NOT NULL,
    target_port INTEGER NOT NULL DEFAULT 25 CHECK (target_port BETWEEN 1 AND 65535),
    service TEXT NOT NULL DEFAULT 'smtp' CHECK (service IN ('smtp')),
    enabled BOOLEAN NOT NULL DEFAULT true,
    tls_policy TEXT NOT NULL DEFAULT 'opportunistic'
        CHECK (tls_policy IN ('none', 'opportunistic', 'required', 'verify')),
    max_message_size BIGINT NOT NULL DEFAULT 52428800 CHECK (max_message_size > 0),
    queue_lifetime_seconds INTEGER NOT NULL DEFAULT 432000
        CHECK (queue_lifetime_seconds BETWEEN 60 AND 2592000),
    recipient_policy TEXT NOT NULL DEFAULT 'any' CHECK (recipient_policy IN ('any', 'listed', 'verify')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT relay_domains_name_lower CHECK (name = lower(name))
);
CREATE UNIQUE INDEX relay_domains_name_key ON relay_domains (name);
CREATE INDEX relay_domains_owner_idx ON relay_domains (owner_id, id);
CREATE INDEX relay_domains_target_idx ON relay_domains (target_host, target_port);

-- The relay reloads its domain table when this fires (and polls as a fallback).
CREATE FUNCTION relay_domains_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('mxspool_domains', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER relay_domains_changed
    AFTER INSERT OR UPDATE OR DELETE ON relay_domains
    FOR EACH STATEMENT EXECUTE FUNCTION relay_domains_notify();

CREATE TABLE domain_admins (
    domain_id BIGINT NOT NULL REFERENCES relay_domains (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (domain_id, account_id)
);
CREATE INDEX domain_admins_account_idx ON domain_admins (account_id, domain_id);

-- Recipients accepted for domains whose recipient_policy is 'listed'.
CREATE TABLE domain_recipients (
    domain_id BIGINT NOT NULL REFERENCES relay_domains (id) ON DELETE CASCADE,
    local_part TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (domain_id, local_part)
);

CREATE TABLE api_keys (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- The first characters of the secret, shown in listings so a user can tell keys apart.
    prefix TEXT NOT NULL,
    secret_hash BYTEA NOT NULL UNIQUE,
    can_write BOOLEAN NOT NULL,
    -- When true the key reaches only the domains in api_key_domains (none left: nothing).
    domain_restricted BOOLEAN NOT NULL DEFAULT false,
    expires_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_account_idx ON api_keys (account_id, id);

CREATE TABLE api_key_domains (
    api_key_id BIGINT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    domain_id BIGINT NOT NULL REFERENCES relay_domains (id) ON DELETE CASCADE,
    PRIMARY KEY (api_key_id, domain_id)
);
CREATE INDEX api_key_domains_domain_idx ON api_key_domains (domain_id);
