//! The actix-web application: routes, shared state and server start-up.

pub mod bundle;
pub mod capability;
pub mod error;
pub mod handlers;
pub mod negotiation;
pub mod search;
pub mod validate;

use std::net::SocketAddr;

use actix_web::dev::Server;
use actix_web::{web, App, HttpRequest, HttpServer};

use crate::config::Config;
use crate::fhir::schema::SchemaSet;
use crate::store::projection::PROJECTIONS;
use crate::store::Store;
use crate::validation::Validator;

pub struct AppState {
    pub store: Store,
    pub schemas: SchemaSet,
    pub validator: Validator,
    pub config: Config,
}

impl AppState {
    /// The server's FHIR base URL as clients reach it.
    pub fn base_url(&self, req: &HttpRequest) -> String {
        if let Some(base) = &self.config.base_url {
            return base.trim_end_matches('/').to_string();
        }
        let info = req.connection_info();
        format!(
            "{}://{}{}",
            info.scheme(),
            info.host(),
            self.config.base_path
        )
    }
}

pub fn routes(cfg: &mut web::ServiceConfig, base_path: &str) {
    use handlers::*;
    let conformance_type = format!("/{{type:{}}}", validate::CONFORMANCE_TYPES.join("|"));
    cfg.service(
        web::scope(base_path)
            .service(
                web::resource(["", "/"])
                    .route(web::post().to(bundle::process))
                    .default_service(web::to(method_not_allowed)),
            )
            .route("/metadata", web::get().to(capability::metadata))
            .route("/_history", web::get().to(history_system))
            .service(
                web::resource(conformance_type.as_str())
                    .route(web::get().to(validate::search_conformance))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource(format!("{conformance_type}/{{id}}"))
                    .route(web::get().to(validate::read_conformance))
                    .default_service(web::to(method_not_allowed)),
            )
            .route("/{type}/$validate", web::post().to(validate::validate_type))
            .route(
                "/{type}/{id}/$validate",
                web::post().to(validate::validate_instance),
            )
            .route(
                "/$bhyt-xml-validate",
                web::post().to(crate::bhyt::rest::validate),
            )
            .service(
                web::resource("/{type}")
                    .route(web::get().to(search::search_get))
                    .route(web::post().to(create))
                    .route(web::put().to(search::conditional_update))
                    .route(web::delete().to(search::conditional_delete))
                    .default_service(web::to(method_not_allowed)),
            )
            .route("/{type}/_history", web::get().to(history_type))
            .service(
                web::resource("/{type}/_search")
                    .route(web::post().to(search::search_post))
                    .route(web::get().to(search::search_get))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{type}/{id}")
                    .route(web::get().to(read))
                    .route(web::put().to(update))
                    .route(web::delete().to(delete))
                    .route(web::patch().to(bundle::patch))
                    .default_service(web::to(method_not_allowed)),
            )
            .route("/{type}/{id}/_history", web::get().to(history_instance))
            .route("/{type}/{id}/_history/{vid}", web::get().to(vread))
            .default_service(web::to(not_found)),
    )
    .default_service(web::to(not_found));
}

/// Opens the store, migrates it and binds; the returned server runs when awaited.
/// Must be called inside an actix system.
pub fn start(config: Config) -> Result<(Server, Vec<SocketAddr>), String> {
    let store = Store::open(&config.database, config.pool_size)?;
    let applied = store.migrate()?;
    if applied > 0 {
        log::info!("applied {applied} migration(s)");
    }
    let types: Vec<&'static str> = PROJECTIONS.iter().map(|p| p.resource_type()).collect();
    let schemas = SchemaSet::compile(&types)?;
    let validator = Validator::load(&config.canonical_base)?;
    let bind = (config.bind.clone(), config.port);
    let workers = config.workers;
    let base_path = config.base_path.clone();
    let state = web::Data::new(AppState {
        store,
        schemas,
        validator,
        config,
    });
    let server = HttpServer::new(move || {
        let base_path = base_path.clone();
        App::new()
            .app_data(state.clone())
            .configure(move |cfg| routes(cfg, &base_path))
    })
    .workers(workers)
    .bind(bind)
    .map_err(|e| format!("cannot bind: {e}"))?;
    let addrs = server.addrs();
    Ok((server.run(), addrs))
}

/// Serves until stopped, announcing the bound address on stdout.
pub async fn serve(config: Config) -> Result<(), String> {
    let base_path = config.base_path.clone();
    let (server, addrs) = start(config)?;
    for addr in addrs {
        // Scripts read this line to find an ephemeral port.
        println!("vnfhir listening on http://{addr}{base_path}");
    }
    server.await.map_err(|e| e.to_string())
}
