//! HTTP handlers, one module per resource. [`configure_api`] mounts everything under
//! `/api/v1`; [`configure_root`] the probes at the root.

pub mod accounts;
pub mod api_keys;
pub mod auth;
pub mod dns;
pub mod domains;
pub mod health;
pub mod outages;
pub mod queue;
pub mod recipients;
pub mod targets;
pub mod webhooks;
pub mod whitelist;

use utoipa_actix_web::service_config::ServiceConfig;

/// Every `/api/v1` route; the OpenAPI paths are collected from the same registrations.
pub fn configure_api(cfg: &mut ServiceConfig) {
    cfg.service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::me)
        .service(accounts::list_accounts)
        .service(accounts::create_account)
        .service(accounts::get_account)
        .service(accounts::update_account)
        .service(accounts::delete_account)
        .service(api_keys::list_api_keys)
        .service(api_keys::create_api_key)
        .service(api_keys::delete_api_key)
        .service(domains::list_domains)
        .service(domains::create_domain)
        .service(domains::get_domain)
        .service(domains::update_domain)
        .service(domains::delete_domain)
        .service(domains::add_domain_admin)
        .service(domains::remove_domain_admin)
        .service(dns::dns_instructions)
        .service(dns::check_dns)
        .service(
            utoipa_actix_web::scope::scope("/domains/{id}/recipients")
                .app_data(crate::extract::JsonLimit(recipients::BULK_JSON_LIMIT))
                .configure(recipients::configure),
        )
        .service(queue::list_queue)
        .service(queue::bulk_action)
        .service(queue::get_message)
        .service(queue::retry_message)
        .service(queue::hold_message)
        .service(queue::release_message)
        .service(queue::delete_message)
        .service(queue::flush_domain)
        .service(queue::domain_stats)
        .service(outages::domain_outages)
        .service(targets::list_targets)
        .service(targets::target_events)
        .service(whitelist::domain_whitelist_report)
        .service(whitelist::verify_whitelist)
        .service(whitelist::whitelist_overview)
        .service(webhooks::list_webhooks)
        .service(webhooks::create_webhook)
        .service(webhooks::get_webhook)
        .service(webhooks::update_webhook)
        .service(webhooks::delete_webhook)
        .service(webhooks::list_deliveries)
        .service(webhooks::resend_delivery)
        .service(webhooks::test_webhook);
}

/// Probes outside the versioned API.
pub fn configure_root(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz).service(health::readyz);
}
