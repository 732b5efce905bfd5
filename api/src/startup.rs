//! Building and running the HTTP server: [`Application::build`] binds the listener (so tests
//! can ask for port 0 and read the real port), [`Application::run_until_stopped`] serves.

use crate::error::{problem_for_foreign_errors, ApiError};
use crate::state::{ApiConfig, AppState};
use actix_web::dev::{ResourceDef, Server, ServerHandle};
use actix_web::middleware::ErrorHandlers;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use mxspool_store::PgPool;
use std::net::TcpListener;
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::SwaggerUi;

/// A bound, not yet running, API server.
pub struct Application {
    port: u16,
    server: Server,
    /// Sends webhooks while the server runs (see [`crate::webhooks`]).
    webhooks: Option<crate::webhooks::Dispatcher>,
}

/// Every documented route with its methods, to answer 405 (with `Allow`) rather than 404 when
/// the path exists but the method does not.
struct KnownRoutes(Vec<(ResourceDef, Vec<String>)>);

impl Application {
    /// Binds `listener` and prepares the server; nothing is served until
    /// [`run_until_stopped`](Self::run_until_stopped).
    pub fn build(config: ApiConfig, pool: PgPool, listener: TcpListener) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        let workers = config.workers.max(1);
        let webhooks = config.webhooks.enabled.then(|| {
            crate::webhooks::Dispatcher::new(
                pool.clone(),
                config.webhooks.clone(),
                config.allow_private_targets,
            )
        });
        let state = web::Data::new(AppState::new(pool, config));
        let spec = crate::openapi::spec();
        let known = web::Data::new(known_routes(&spec));
        let server = HttpServer::new(move || {
            let (app, api) = App::new()
                .into_utoipa_app()
                .openapi(spec.clone())
                .app_data(state.clone())
                .app_data(known.clone())
                .configure(crate::routes::configure_root)
                .service(scope::scope("/api/v1").configure(crate::routes::configure_api))
                .split_for_parts();
            app.service(SwaggerUi::new("/swagger-ui/{_:.*}").url(crate::openapi::SPEC_PATH, api))
                .route("/metrics", web::get().to(crate::metrics::metrics))
                .default_service(web::to(fallback))
                .wrap(ErrorHandlers::new().default_handler(problem_for_foreign_errors))
                .wrap_fn(count_request)
                .wrap(tracing_actix_web::TracingLogger::default())
        })
        .workers(workers)
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(Application {
            port,
            server,
            webhooks,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server gracefully from elsewhere.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let dispatcher = self.webhooks.map(|d| tokio::spawn(d.run()));
        let result = self.server.await;
        if let Some(task) = dispatcher {
            task.abort();
        }
        result
    }
}

/// Counts every request by method, route pattern (never the raw path, so ids do not multiply
/// the series) and status, with its latency. Unmatched paths count as route `unmatched`.
fn count_request<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>>
where
    S: actix_web::dev::Service<
        actix_web::dev::ServiceRequest,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
{
    let started = std::time::Instant::now();
    let method = req.method().to_string();
    let call = srv.call(req);
    async move {
        let result = call.await;
        let seconds = started.elapsed().as_secs_f64();
        match &result {
            Ok(res) => {
                let route = res
                    .request()
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".to_owned());
                mxspool_telemetry::http_request(&method, &route, res.status().as_u16(), seconds);
            }
            Err(e) => {
                let status = e.as_response_error().status_code().as_u16();
                mxspool_telemetry::http_request(&method, "unmatched", status, seconds);
            }
        }
        result
    }
}

fn known_routes(spec: &utoipa::openapi::OpenApi) -> KnownRoutes {
    let routes = spec
        .paths
        .paths
        .iter()
        .map(|(path, item)| {
            let mut methods = Vec::new();
            for (name, present) in [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ] {
                if present {
                    methods.push(name.to_owned());
                }
            }
            (ResourceDef::new(path.as_str()), methods)
        })
        .collect();
    KnownRoutes(routes)
}

/// The methods of the fixed route (one without parameters) that matches `req`'s path, if any:
/// `GET /api/v1/queue/actions` is routed to `GET /api/v1/queue/{id}` by actix, yet it names the
/// fixed path `/queue/actions`, which has only `POST`.
pub(crate) fn fixed_route_methods(req: &HttpRequest) -> Option<Vec<String>> {
    let known = req.app_data::<web::Data<KnownRoutes>>()?;
    let path = req.path();
    known
        .0
        .iter()
        .find(|(def, _)| !def.pattern().is_some_and(|p| p.contains('{')) && def.is_match(path))
        .map(|(_, methods)| methods.clone())
}

/// Requests no route matched: 405 when the path is known, 404 otherwise.
async fn fallback(
    req: HttpRequest,
    known: web::Data<KnownRoutes>,
) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    match known.0.iter().find(|(def, _)| def.is_match(path)) {
        Some((_, methods)) => Err(ApiError::MethodNotAllowed(
            format!(
                "{} is not allowed on {path}; use {}",
                req.method(),
                methods.join(", ")
            ),
            methods.clone(),
        )),
        None => Err(ApiError::NotFound(format!("no such endpoint: {path}"))),
    }
}
