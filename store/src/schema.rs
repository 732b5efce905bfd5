// Diesel table definitions, kept in step with migrations/ by hand; the store tests run
// every query against the migrated schema, so a drift fails there.

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    accounts (id) {
        id -> Int8,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        parent_id -> Nullable<Int8>,
        max_domains -> Nullable<Int4>,
        may_create_domain_admins -> Nullable<Bool>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Int8,
        account_id -> Int8,
        family_id -> Uuid,
        token_hash -> Bytea,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    relay_domains (id) {
        id -> Int8,
        name -> Text,
        #[sql_name = "type"]
        domain_type -> Text,
        owner_id -> Int8,
        target_host -> Text,
        target_port -> Int4,
        service -> Text,
        enabled -> Bool,
        tls_policy -> Text,
        max_message_size -> Int8,
        queue_lifetime_seconds -> Int4,
        recipient_policy -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        accept_only_when_primary_down -> Bool,
        verify_valid_ttl_seconds -> Int4,
        verify_invalid_ttl_seconds -> Int4,
        verify_fallback -> Text,
        dns_status -> Nullable<Text>,
        dns_checked_at -> Nullable<Timestamptz>,
        dns_check -> Nullable<Jsonb>,
    }
}

diesel::table! {
    domain_admins (domain_id, account_id) {
        domain_id -> Int8,
        account_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    domain_recipients (domain_id, local_part) {
        domain_id -> Int8,
        local_part -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    recipient_callouts (domain_id, local_part) {
        domain_id -> Int8,
        local_part -> Text,
        valid -> Bool,
        reply -> Text,
        checked_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Int8,
        account_id -> Int8,
        name -> Text,
        prefix -> Text,
        secret_hash -> Bytea,
        can_write -> Bool,
        domain_restricted -> Bool,
        expires_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_key_domains (api_key_id, domain_id) {
        api_key_id -> Int8,
        domain_id -> Int8,
    }
}

diesel::table! {
    messages (id) {
        id -> Int8,
        sender -> Text,
        client_ip -> Text,
        helo -> Text,
        tls -> Bool,
        size -> Int8,
        subject -> Nullable<Text>,
        message_id_header -> Nullable<Text>,
        body -> Bytea,
        received_at -> Timestamptz,
        dsn_sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Int8,
        message_id -> Int8,
        domain_id -> Nullable<Int8>,
        recipient -> Text,
        state -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        expires_at -> Timestamptz,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamptz>,
        last_code -> Nullable<Int4>,
        last_reply -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        route -> Text,
    }
}

diesel::table! {
    delivery_attempts (id) {
        id -> Int8,
        delivery_id -> Int8,
        domain_id -> Nullable<Int8>,
        started_at -> Timestamptz,
        duration_ms -> Int4,
        target_host -> Text,
        target_ip -> Nullable<Text>,
        tls -> Bool,
        code -> Nullable<Int4>,
        reply -> Text,
        outcome -> Text,
        source_ip -> Nullable<Text>,
    }
}

diesel::table! {
    whitelist_checks (id) {
        id -> Int8,
        domain_id -> Int8,
        source_ip -> Text,
        target_host -> Text,
        target_port -> Int4,
        target_ip -> Nullable<Text>,
        recipient -> Text,
        checked_at -> Timestamptz,
        duration_ms -> Int4,
        stage -> Text,
        outcome -> Text,
        code -> Nullable<Int4>,
        reply -> Text,
        transcript -> Jsonb,
    }
}

diesel::table! {
    targets (host, port) {
        host -> Text,
        port -> Int4,
        state -> Text,
        changed_at -> Timestamptz,
        last_probe_at -> Nullable<Timestamptz>,
        next_probe_at -> Nullable<Timestamptz>,
        probe_interval_ms -> Int4,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    target_events (id) {
        id -> Int8,
        host -> Text,
        port -> Int4,
        state -> Text,
        at -> Timestamptz,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    domain_table_version (id) {
        id -> Int4,
        version -> Int8,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Int8,
        account_id -> Int8,
        url -> Text,
        description -> Nullable<Text>,
        events -> Array<Text>,
        domain_ids -> Nullable<Array<Int8>>,
        enabled -> Bool,
        secret -> Text,
        target_down_grace_seconds -> Int4,
        queue_threshold_messages -> Nullable<Int4>,
        queue_threshold_age_seconds -> Nullable<Int4>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Int8,
        event_type -> Text,
        domain_id -> Nullable<Int8>,
        host -> Nullable<Text>,
        port -> Nullable<Int4>,
        data -> Jsonb,
        occurred_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Int8,
        webhook_id -> Int8,
        event_id -> Nullable<Int8>,
        event_type -> Text,
        payload -> Jsonb,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Nullable<Timestamptz>,
        last_attempt_at -> Nullable<Timestamptz>,
        last_status_code -> Nullable<Int4>,
        last_response -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_queue_alerts (webhook_id, domain_id) {
        webhook_id -> Int8,
        domain_id -> Int8,
        raised_at -> Timestamptz,
    }
}

diesel::joinable!(refresh_tokens -> accounts (account_id));
diesel::joinable!(relay_domains -> accounts (owner_id));
diesel::joinable!(domain_admins -> relay_domains (domain_id));
diesel::joinable!(domain_admins -> accounts (account_id));
diesel::joinable!(domain_recipients -> relay_domains (domain_id));
diesel::joinable!(recipient_callouts -> relay_domains (domain_id));
diesel::joinable!(api_keys -> accounts (account_id));
diesel::joinable!(api_key_domains -> api_keys (api_key_id));
diesel::joinable!(api_key_domains -> relay_domains (domain_id));
diesel::joinable!(deliveries -> messages (message_id));
diesel::joinable!(deliveries -> relay_domains (domain_id));
diesel::joinable!(delivery_attempts -> deliveries (delivery_id));
diesel::joinable!(whitelist_checks -> relay_domains (domain_id));
diesel::joinable!(webhooks -> accounts (account_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));

diesel::allow_tables_to_appear_in_same_query!(
    settings,
    accounts,
    refresh_tokens,
    relay_domains,
    domain_admins,
    domain_recipients,
    recipient_callouts,
    api_keys,
    api_key_domains,
    messages,
    deliveries,
    delivery_attempts,
    whitelist_checks,
    targets,
    target_events,
    domain_table_version,
    webhooks,
    webhook_events,
    webhook_deliveries,
    webhook_queue_alerts,
);
