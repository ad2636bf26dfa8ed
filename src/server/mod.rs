//! The reference Healing Space server (`healing-tui serve` / `demo`): faithful to the
//! production API in `shared/docs/healing-space-api.md`, plus our extensions
//! (websocket push, ETag/304, gzip, `after_id`, `Idempotency-Key`). It shares only
//! wire types (`api::types`) with the client rooms, never logic.
//!
//! Modules: [`db`] schema and connection, [`auth`] sessions/CSRF/login,
//! [`messages`] and [`pet`] the routes, [`ws`] the push hub, [`limits`] rate
//! limits, [`faults`] the failure switch, [`etag`] conditional responses,
//! [`extract`] request parsing, [`errors`] error responses, [`seed`] and [`demo`]
//! the demo data and activity.

pub mod auth;
pub mod db;
pub mod demo;
pub mod errors;
pub mod etag;
pub mod extract;
pub mod faults;
pub mod limits;
pub mod messages;
pub mod pet;
pub mod seed;
pub mod state;
pub mod ws;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use clap::Args;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;
use tower_http::compression::CompressionLayer;

pub use errors::ServerError;
pub use faults::FailRoute;
pub use limits::{RateRule, RouteLimit};

use state::{AppState, Settings, Shared};

/// Which server to imitate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Intended behaviour plus the extensions (websocket, ETag, gzip, after_id, Idempotency-Key, keep-alive)
    #[default]
    Reference,
    /// Degraded like production: no extensions, Connection: close, Secure cookie, route limits 50/h,200/d
    Production,
}

/// A data set to load into an empty database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Seed {
    /// Patients alex and sam, clinician dr_morgan (password healing-demo, PIN 1234), a few days of history, alex's pet Biscuit
    Demo,
}

/// How to run the server.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Where to listen (port 0 picks a free one).
    pub addr: SocketAddr,
    /// SQLite database file, created if missing.
    pub db: PathBuf,
    /// Data set to load if the database has no users.
    pub seed: Option<Seed>,
    /// Serve `/api/messages/ws` (always off in the production profile).
    pub websocket: bool,
    /// Reference or production behaviour.
    pub profile: Profile,
    /// Per-route limit; `None` means the profile's default (none for reference,
    /// 50/h,200/d for production).
    pub route_limit: Option<RouteLimit>,
    /// Ignore `Idempotency-Key` (always ignored in the production profile).
    pub ignore_idempotency_key: bool,
    /// Run the demo activity (dr_morgan answers; see [`demo`]).
    pub demo_activity: bool,
    /// Routes that answer 500 with an `error_id` from the start (see [`faults`]).
    pub fail_routes: Vec<FailRoute>,
}

impl ServerOptions {
    /// Reference profile, websocket on, no seed, no route limit, on `addr` with `db`.
    pub fn new(addr: SocketAddr, db: PathBuf) -> Self {
        ServerOptions {
            addr,
            db,
            seed: None,
            websocket: true,
            profile: Profile::Reference,
            route_limit: None,
            ignore_idempotency_key: false,
            demo_activity: false,
            fail_routes: Vec::new(),
        }
    }

    /// What tests use: 127.0.0.1 on a free port, demo seed, reference profile.
    pub fn local_demo(db: PathBuf) -> Self {
        ServerOptions {
            seed: Some(Seed::Demo),
            ..Self::new(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0), db)
        }
    }
}

/// A server running on the current tokio runtime.
pub struct RunningServer {
    addr: SocketAddr,
    state: AppState,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    activity: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The bound address (with the real port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Number of open websockets (benchmarks and tests).
    pub fn open_sockets(&self) -> usize {
        self.state.hub.open_sockets()
    }

    /// Make exactly `routes` answer 500 from the next request on (empty: none).
    pub fn fail_routes(&self, routes: &[FailRoute]) {
        self.state.faults.set(routes);
    }

    /// Stop accepting, close websockets, finish in-flight requests (at most 5 s).
    pub async fn shutdown(self) {
        if let Some(activity) = self.activity {
            activity.abort();
        }
        self.state.hub.close_all();
        let _ = self.stop.send(());
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err() {
            task.abort();
        }
    }
}

/// Start the server: open and migrate the database, seed it, bind, serve.
pub async fn start(opts: ServerOptions) -> anyhow::Result<RunningServer> {
    let db = db::Db::open(&opts.db)?;
    if opts.seed == Some(Seed::Demo) && seed::seed_demo(&db).await? {
        tracing::info!("seeded the demo data set");
    }
    let production = opts.profile == Profile::Production;
    let route_limit = match (&opts.route_limit, production) {
        (Some(limit), _) => Some(limit.clone()),
        (None, true) => Some(RouteLimit::production_default()),
        (None, false) => None,
    };
    let settings = Settings {
        profile: opts.profile,
        websocket: opts.websocket && !production,
        idempotency: !opts.ignore_idempotency_key && !production,
    };
    let state: AppState = Arc::new(Shared {
        db,
        hub: ws::Hub::new(),
        settings,
        login_limiter: limits::LoginLimiter::new(),
        route_limiter: route_limit.map(limits::RouteLimiter::new),
        faults: faults::Faults::new(&opts.fail_routes),
        new_messages: broadcast::channel(256).0,
    });
    let app = router(state.clone());
    let listener = tokio::net::TcpListener::bind(opts.addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        // Small JSON frames: do not let Nagle hold them back.
        let _ = tcp.set_nodelay(true);
    });
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, service).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = served.await {
            tracing::error!("server stopped: {e}");
        }
    });
    let activity = opts.demo_activity.then(|| demo::spawn_activity(state.clone()));
    tracing::info!(%addr, profile = ?opts.profile, "reference server listening");
    Ok(RunningServer { addr, state, stop, task, activity })
}

fn router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let mut app = Router::new()
        .route("/api/health", get(|| async { Json(serde_json::json!({ "status": "ok" })) }))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/status", get(auth::status))
        .route("/api/csrf-token", get(auth::csrf_token))
        .route("/api/poll", get(messages::poll))
        .route("/api/messages/send", post(messages::send))
        .route("/api/messages/inbox", get(messages::inbox))
        .route("/api/messages/conversation/{user}", get(messages::conversation))
        .route("/api/messages/{id}/read", patch(messages::mark_read))
        .route("/api/messages/{id}", delete(messages::delete))
        .route("/api/messages/sent", get(messages::sent))
        .route("/api/messages/search", get(messages::search))
        .route("/api/messages/unread-count", get(messages::unread_count))
        .route("/api/pet/status", get(pet::status))
        .route("/api/pet/create", post(pet::create))
        .route("/api/pet/feed", post(pet::feed))
        .route("/api/pet/shop", get(pet::shop))
        .route("/api/pet/buy", post(pet::buy))
        .route("/api/pet/reward", post(pet::reward));
    if settings.extensions() {
        // Added before the websocket route so upgrades are never compressed.
        app = app.layer(CompressionLayer::new().gzip(true));
    }
    app = if settings.websocket {
        app.route("/api/messages/ws", get(ws::handler))
    } else {
        // Explicit, or `/api/messages/{id}` would answer 405.
        app.route("/api/messages/ws", get(not_found))
    };
    if state.route_limiter.is_some() {
        app = app.route_layer(middleware::from_fn_with_state(state.clone(), route_limit));
    }
    app = app.fallback(not_found).method_not_allowed_fallback(method_not_allowed);
    if settings.profile == Profile::Production {
        app = app.layer(middleware::from_fn(connection_close));
    }
    app.layer(DefaultBodyLimit::max(extract::BODY_LIMIT)).with_state(state)
}

async fn not_found() -> ServerError {
    ServerError::not_found("Endpoint not found")
}

async fn method_not_allowed(State(state): State<AppState>) -> ServerError {
    if state.settings.profile == Profile::Production {
        ServerError::HtmlPage {
            status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
            text: errors::METHOD_NOT_ALLOWED_TEXT,
        }
    } else {
        ServerError::MethodNotAllowed
    }
}

/// Production's Flask-Limiter: every request counts per route and client IP.
async fn route_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(limiter) = &state.route_limiter {
        let route = req.extensions().get::<MatchedPath>().map_or_else(|| req.uri().path(), |m| m.as_str());
        let ip = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        if let Err(label) = limiter.hit(route, ip) {
            return ServerError::RouteLimited(label).into_response();
        }
    }
    next.run(req).await
}

/// Production closes every connection after one response.
async fn connection_close(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// `healing-tui serve` options.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8700")]
    pub addr: SocketAddr,
    /// SQLite database file (created if missing)
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    /// Seed data set to load into an empty database
    #[arg(long, value_name = "NAME", value_enum)]
    pub seed: Option<Seed>,
    /// Turn the websocket route off (404), as on the production server
    #[arg(long)]
    pub no_websocket: bool,
    /// Behave like the reference (all extensions) or like production (degraded)
    #[arg(long, value_enum, default_value = "reference")]
    pub profile: Profile,
    /// Per-route limit per client IP, e.g. 50/h,200/d [default: none; 50/h,200/d in production]
    #[arg(long, value_name = "RULES")]
    pub route_limit: Option<RouteLimit>,
    /// Ignore the Idempotency-Key header on send, as production does
    #[arg(long)]
    pub ignore_idempotency_key: bool,
    /// Make these routes answer 500 with an error_id, as production versions do (e.g. send,conversation)
    #[arg(long, value_name = "ROUTES", value_enum, value_delimiter = ',')]
    pub fail_route: Vec<FailRoute>,
}

fn init_server_logging() {
    use tracing_subscriber::prelude::*;
    let filter = crate::model::log_level::from_rust_log();
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    // Another room may have installed a subscriber already; keep theirs.
    let _ = tracing_subscriber::registry().with(filter).with(stderr).try_init();
}

/// The runtime the reference server runs on (also under `demo`).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Run `serve` until Ctrl-C or SIGTERM.
pub fn serve_blocking(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_server_logging();
    runtime()?.block_on(async move {
        let opts = ServerOptions {
            addr: args.addr,
            db: args.db,
            seed: args.seed,
            websocket: !args.no_websocket,
            profile: args.profile,
            route_limit: args.route_limit,
            ignore_idempotency_key: args.ignore_idempotency_key,
            demo_activity: false,
            fail_routes: args.fail_route,
        };
        let server = start(opts).await?;
        println!("Healing Space reference server listening on {}", server.url());
        println!("Press Ctrl-C to stop.");
        shutdown_signal().await;
        server.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Start a demo server on 127.0.0.1 (`port` or a free one) with a fresh seeded
/// database in a temporary directory and the demo activity running. Keep the
/// directory alive as long as the server.
pub async fn start_demo(port: Option<u16>) -> anyhow::Result<(RunningServer, tempfile::TempDir)> {
    let dir = tempfile::Builder::new().prefix("healing-tui-demo-").tempdir()?;
    let mut opts = ServerOptions::local_demo(dir.path().join("demo.db"));
    opts.addr.set_port(port.unwrap_or(0));
    opts.demo_activity = true;
    let server = start(opts).await?;
    Ok((server, dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn serve_flags_parse() {
        let w = Wrap::parse_from([
            "x",
            "--db",
            "d.db",
            "--seed",
            "demo",
            "--profile",
            "production",
            "--route-limit",
            "10/m,100/d",
            "--ignore-idempotency-key",
            "--fail-route",
            "send,conversation",
        ]);
        assert_eq!(w.serve.seed, Some(Seed::Demo));
        assert_eq!(w.serve.profile, Profile::Production);
        assert_eq!(w.serve.route_limit.unwrap().rules[0].label(), "10 per 1 minute");
        assert!(w.serve.ignore_idempotency_key && !w.serve.no_websocket);
        assert_eq!(w.serve.fail_route, [FailRoute::Send, FailRoute::Conversation]);
        let w = Wrap::parse_from(["x", "--db", "d.db"]);
        assert!(w.serve.fail_route.is_empty());
        assert_eq!((w.serve.profile, w.serve.seed, w.serve.route_limit), (Profile::Reference, None, None));
        assert!(Wrap::try_parse_from(["x", "--db", "d", "--route-limit", "lots"]).is_err());
        assert!(Wrap::try_parse_from(["x", "--db", "d", "--fail-route", "everything"]).is_err());
    }
}
