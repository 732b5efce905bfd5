//! How the OpenAPI spec is built: the document-level parts ([`ApiDoc`]: info, tags, security
//! scheme) plus every path collected by utoipa-actix-web from the route registrations in
//! [`crate::routes`], plus [`CommonErrors`] that adds the error responses every operation
//! shares. `mxspool openapi` prints [`spec`]; the server serves the same document at
//! `/api-docs/openapi.json`, and `openapi/openapi.json` is the committed copy.

use crate::error::Problem;
use actix_web::App;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDoc, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, AppExt};

/// Where the spec is served.
pub const SPEC_PATH: &str = "/api-docs/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mxspool",
        description = "Backup MX / queueing relay service.\n\n\
While a customer's primary mail server is down, mxspool accepts the domain's mail, keeps it in \
PostgreSQL and forwards it as soon as the primary answers again. A customer takes three steps:\n\n\
1. **Add a relay domain** (`POST /api/v1/domains`): its name and target host (the primary mail server).\n\
2. **Publish the MX record** shown by `GET /api/v1/domains/{id}/dns`: the backup MX with the \
highest preference number of all the domain's MX records; `POST /api/v1/domains/{id}/dns/check` \
checks it against live DNS.\n\
3. **Whitelist the backup MX** (the relay's outgoing addresses) on the primary, so relayed mail \
is not filtered twice.\n\n\
Authenticate with `Authorization: Bearer <token>`: an access token from `/api/v1/auth/login`, \
or an API key from `/api/v1/api-keys`. Errors are `application/problem+json` (RFC 9457).",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "auth", description = "Log in, refresh and revoke tokens; the caller's own account"),
        (name = "accounts", description = "Operators, customers with plan limits, and domain administrators"),
        (name = "api-keys", description = "Credentials for automation scripts"),
        (name = "domains", description = "Relay domains: the domains this service is backup MX for"),
        (name = "recipients", description = "Recipient lists of relay domains with the `listed` policy: the only local parts the relay accepts for them"),
        (name = "queue", description = "Mail waiting for delivery, per recipient: list, inspect, retry, hold, release, delete, bulk commands by filter; per-domain flush and statistics"),
        (name = "targets", description = "Health of the target hosts mail is relayed to, and their up/down timeline"),
        (name = "webhooks", description = "HTTP callbacks for operational events (target down/up, queue thresholds, bounced and expired mail, DNS errors), signed with HMAC-SHA256, retried with back-off, logged, re-sendable and testable"),
        (name = "health", description = "Liveness and readiness probes"),
    ),
    components(schemas(Problem)),
)]
pub struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token from /api/v1/auth/login, or an API key (mxs_…)",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds the error responses that every operation of a kind can produce, so handlers list only
/// their own (404, 409, …): 401 and 403 on authenticated operations, 400/413/415/422 on
/// operations with a body, 422 on those with query or path parameters, 500 and 503 everywhere.
struct CommonErrors;

impl CommonErrors {
    fn add(op: &mut Operation, status: &str, description: &str) {
        if op.responses.responses.contains_key(status) {
            return;
        }
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                crate::error::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build();
        op.responses
            .responses
            .insert(status.to_owned(), response.into());
    }
}

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                if secured {
                    Self::add(op, "401", "Missing, invalid or expired credentials");
                    Self::add(
                        op,
                        "403",
                        "The caller's role, plan or API key does not allow this",
                    );
                }
                if op.request_body.is_some() {
                    Self::add(op, "400", "The body is not valid JSON");
                    Self::add(op, "413", "The body is too large");
                    Self::add(op, "415", "The body is not sent as application/json");
                }
                if op.request_body.is_some()
                    || op.parameters.as_ref().is_some_and(|p| !p.is_empty())
                {
                    Self::add(op, "422", "Invalid input; `errors` names each field");
                }
                Self::add(op, "500", "Unexpected server error");
                Self::add(
                    op,
                    "503",
                    "The database is unreachable or overloaded; retry",
                );
            }
        }
    }
}

/// States in the spec the input rules the server enforces for every operation alike, so that
/// clients (and generated SDKs, and fuzzers) know them: an integer in the path is an id, 1 or
/// more ([`crate::extract::path_id`]); `limit` is 1 to [`MAX_LIMIT`](crate::pagination::MAX_LIMIT)
/// unless the operation states other bounds.
struct InputRules;

impl Modify for InputRules {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                for param in op.parameters.iter_mut().flatten() {
                    let Some(utoipa::openapi::RefOr::T(Schema::Object(schema))) = &mut param.schema
                    else {
                        continue;
                    };
                    let integer = schema.schema_type
                        == utoipa::openapi::schema::SchemaType::Type(
                            utoipa::openapi::schema::Type::Integer,
                        );
                    match (&param.parameter_in, param.name.as_str()) {
                        // A handler's own bounds (`#[param(maximum = …)]`) win.
                        (ParameterIn::Path, _) if integer => {
                            schema.minimum.get_or_insert(1.into());
                        }
                        (ParameterIn::Query, "limit") if integer => {
                            schema.minimum.get_or_insert(1.into());
                            schema
                                .maximum
                                .get_or_insert(crate::pagination::MAX_LIMIT.into());
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// The complete spec, exactly as served.
pub fn spec() -> OpenApiDoc {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure_root)
        .service(scope::scope("/api/v1").configure(crate::routes::configure_api))
        .split_for_parts();
    // Modifiers in ApiDoc ran before the paths were collected; run them over the whole spec.
    SecurityAddon.modify(&mut api);
    CommonErrors.modify(&mut api);
    InputRules.modify(&mut api);
    api
}

/// The spec as the pretty JSON committed in `openapi/openapi.json`.
pub fn spec_json() -> Result<String, serde_json::Error> {
    spec().to_pretty_json().map(|mut s| {
        s.push('\n');
        s
    })
}
